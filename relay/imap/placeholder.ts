/**
 * The IMAP listeners are declared and reachable, but the IMAP server is not built yet: clients get an
 * immediate, well-formed BYE instead of a hang.
 */
import type { ProtocolHandler } from "../listener.ts";

export function imapNotImplemented(): ProtocolHandler {
  return {
    handle(socket) {
      socket.end("* BYE [UNAVAILABLE] IMAP is not implemented in this mxedge build yet\r\n");
    },
    async close() {},
  };
}
