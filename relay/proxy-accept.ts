/**
 * Applies a listener's PROXY policy to each accepted socket and logs what it decided.
 * A listener without a policy still refuses a PROXY header sent to it (served direct, and a
 * connection whose first bytes are a PROXY signature is closed), so a misconfigured proxy is noticed.
 */
import type { Socket } from "node:net";
import { type ListenerConfig, listenerTls, type ProxyPolicy } from "../src/config.ts";
import type { ConnectionInfo } from "../src/connection.ts";
import type { Logger } from "./log.ts";
import { acceptConnection, type ListenerTls } from "./proxy/index.ts";

const NO_PROXY: ProxyPolicy = { trusted: [], timeoutMs: 3000, maxHeaderBytes: 4096, allowDirect: true };

export function proxyAcceptor(
  listener: ListenerConfig,
  policy: ProxyPolicy | null,
  log: Logger,
): (socket: Socket) => Promise<ConnectionInfo | null> {
  const mode = listenerTls(listener);
  const tls: ListenerTls = {
    mode: mode === "starttls" ? "none" : mode,
    assumeTls: listener.assumeTls,
  };
  return async (socket) => {
    const peer = socket.remoteAddress;
    const result = await acceptConnection(socket, policy ?? NO_PROXY, tls, {
      onLateRefusal: (reason, detail) =>
        log.info("proxy.refused", { listener: listener.name, peer, reason, detail }),
    });
    if (!result.ok) {
      const fields = { listener: listener.name, peer, reason: result.reason, detail: result.detail };
      // A peer gone before it said anything (a load balancer's TCP check that resets at once) is routine.
      if (result.reason === "closed" || result.reason === "socket-error")
        log.debug("proxy.closed-early", fields);
      else log.info("proxy.refused", fields);
      return null;
    }
    const info = result.info;
    if (info.proxyVersion !== null && info.proxy === null) {
      // A LOCAL header: the proxy's own health check. Routine, so never an error.
      log.debug("proxy.local", { listener: listener.name, peer });
    }
    return info;
  };
}
