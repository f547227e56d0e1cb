/** STARTTLS: the server side of a TLS handshake on an already open plaintext socket. */
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import type { TlsState } from "../../src/connection.ts";

/** Resolves with the TLS socket and its state, or null when the handshake fails or the peer leaves. */
export function upgradeToTls(
  plain: Socket,
  secureContext: SecureContext,
): Promise<{ socket: TLSSocket; tls: TlsState } | null> {
  // Deno's node:tls only takes over a socket that is not flowing; Node does not mind either way.
  plain.pause();
  const socket = new TLSSocket(plain, { isServer: true, secureContext });
  socket.on("error", () => socket.destroy());
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), 30_000);
    socket.once("secure", () => {
      clearTimeout(timer);
      const cipher = socket.getCipher();
      const servername = (socket as TLSSocket & { servername?: string | false }).servername;
      resolve({
        socket,
        tls: {
          terminatedBy: "relay",
          version: socket.getProtocol() ?? null,
          cipher: cipher?.standardName ?? cipher?.name ?? null,
          sni: typeof servername === "string" ? servername : null,
          clientCertCn: null,
          clientCertVerified: false,
        },
      });
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}
