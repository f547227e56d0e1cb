/**
 * A TCP listener: accept → (PROXY header, when the listener enables it) → (implicit TLS) → protocol.
 * Shared by SMTP and IMAP, so both see the same ConnectionInfo.
 */
import { createServer, type Server, type Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import type { ListenerConfig } from "../src/config.ts";
import { type ConnectionInfo, directConnection, type Endpoint } from "../src/connection.ts";
import type { Logger } from "./log.ts";

export interface ProtocolHandler {
  handle(socket: Socket, info: ConnectionInfo): void;
  close(): Promise<void>;
}

export interface RunningListener {
  name: string;
  port: number;
  close(): Promise<void>;
  /** Stops accepting; open connections stay (drain, reload). */
  stopAccepting(): Promise<void>;
  /** New connections from now on use these (SIGHUP reload); open ones keep what they started with. */
  replace(deps: ListenerDeps): void;
}

export interface ListenerDeps {
  handler: ProtocolHandler;
  /** Used for implicit TLS; the handler may also use it for STARTTLS. */
  secureContext: () => SecureContext;
  /** Picks the certificate by the client's SNI name (implicit TLS). */
  sniCallback?: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
  implicitTls: boolean;
  log: Logger;
  /** Resolves the connection's real endpoints (PROXY protocol); direct sockets when absent. */
  accept?: (socket: Socket) => Promise<ConnectionInfo | null>;
  handshakeTimeoutMs?: number;
}

export function normaliseAddress(address: string | undefined): string {
  if (!address) return "0.0.0.0";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

export function socketEndpoints(socket: Socket): { client: Endpoint; server: Endpoint } {
  return {
    client: { address: normaliseAddress(socket.remoteAddress), port: socket.remotePort ?? 0 },
    server: { address: normaliseAddress(socket.localAddress), port: socket.localPort ?? 0 },
  };
}

function upgrade(
  socket: Socket,
  deps: ListenerDeps,
  info: ConnectionInfo,
): Promise<{ tls: TLSSocket; info: ConnectionInfo } | null> {
  return new Promise((resolve) => {
    const tls = new TLSSocket(socket, {
      isServer: true,
      secureContext: deps.secureContext(),
      ...(deps.sniCallback ? { SNICallback: deps.sniCallback } : {}),
    });
    const timer = setTimeout(() => tls.destroy(), deps.handshakeTimeoutMs ?? 10_000);
    tls.once("secure", () => {
      clearTimeout(timer);
      const cipher = tls.getCipher();
      const servername = (tls as TLSSocket & { servername?: string | false }).servername;
      resolve({
        tls,
        info: {
          ...info,
          tls: {
            terminatedBy: "relay",
            version: tls.getProtocol() ?? null,
            cipher: cipher?.standardName ?? cipher?.name ?? null,
            sni: typeof servername === "string" ? servername : null,
            clientCertCn: null,
            clientCertVerified: false,
          },
        },
      });
    });
    tls.once("error", () => {
      clearTimeout(timer);
      tls.destroy();
      resolve(null);
    });
    tls.once("close", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

export function startListener(cfg: ListenerConfig, initial: ListenerDeps): Promise<RunningListener> {
  const sockets = new Set<Socket>();
  let current = initial;
  const server: Server = createServer({ pauseOnConnect: false }, (socket) => {
    const deps = current;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", (err) =>
      deps.log.debug("listener.socket-error", { listener: cfg.name, reason: err.message }),
    );
    void (async () => {
      const info = deps.accept
        ? await deps.accept(socket)
        : directConnection(socketEndpoints(socket).client, socketEndpoints(socket).server);
      if (!info) {
        socket.destroy();
        return;
      }
      if (!deps.implicitTls || info.tls) return deps.handler.handle(socket, info);
      const upgraded = await upgrade(socket, deps, info);
      if (!upgraded) {
        deps.log.debug("listener.tls-failed", { listener: cfg.name, client: info.client.address });
        socket.destroy();
        return;
      }
      upgraded.tls.on("error", () => {});
      deps.handler.handle(upgraded.tls as unknown as Socket, upgraded.info);
    })().catch((err: unknown) => {
      deps.log.error("listener.accept-failed", { listener: cfg.name, reason: (err as Error).message });
      socket.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : cfg.port;
      resolve({
        name: cfg.name,
        port,
        stopAccepting: async () => {
          // close() stops listening at once; its callback would wait for every open connection.
          if (server.listening) server.close();
        },
        replace: (deps) => {
          current = deps;
        },
        close: async () => {
          if (server.listening) server.close();
          await current.handler.close();
          for (const s of sockets) s.destroy();
        },
      });
    });
  });
}
