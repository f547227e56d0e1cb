/** Real loopback sockets for the acceptor tests. */
import { once } from "node:events";
import type { Server, Socket } from "node:net";
import { connect, createServer } from "node:net";

export interface TestServer {
  port: number;
  /** The next connection the server accepts (in order). */
  nextSocket(): Promise<Socket>;
  close(): Promise<void>;
}

export async function startServer(host = "127.0.0.1"): Promise<TestServer> {
  const waiting: ((socket: Socket) => void)[] = [];
  const arrived: Socket[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const taker = waiting.shift();
    if (taker) taker(socket);
    else arrived.push(socket);
  });
  server.listen(0, host);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    nextSocket: () => {
      const ready = arrived.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects from `localAddress` (127.0.0.5 by default, to look like another host). */
export async function connectFrom(
  port: number,
  localAddress = "127.0.0.5",
  host = "127.0.0.1",
): Promise<Socket> {
  const socket = connect({ port, host, localAddress });
  socket.on("error", () => {}); // refusals reset the connection; tests look at 'close'
  await once(socket, "connect");
  return socket;
}

/** Everything the socket yields until it ends, starting to read only now. */
export function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.once("error", reject);
  });
}

export function closed(socket: Socket): Promise<void> {
  // not events.once: it would reject on the 'error' (ECONNRESET) that precedes a refusal's 'close'
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once("close", () => resolve()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
