/**
 * The IMAP listeners are declared and reachable, but the IMAP server is not built yet: clients get an
 * immediate, well-formed BYE instead of a hang. The connection is still logged with its real client.
 */
import type { ListenerConfig } from "../../src/config.ts";
import type { ProtocolHandler } from "../listener.ts";
import type { Logger } from "../log.ts";

export function imapNotImplemented(listener: ListenerConfig, log: Logger): ProtocolHandler {
  return {
    handle(socket, info) {
      log.info("imap.connect", {
        listener: listener.name,
        client: info.client.address,
        proxy: info.proxy?.address ?? null,
        tls: info.tls !== null,
      });
      socket.end("* BYE [UNAVAILABLE] IMAP is not implemented in this mxedge build yet\r\n");
    },
    async close() {},
  };
}
