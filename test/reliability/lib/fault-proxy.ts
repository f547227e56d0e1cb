/**
 * A TCP proxy that injects faults at random into the connections it forwards: added latency, resets
 * (RST), stalls (bytes held for longer than the relay's edge timeout) and half-closes (one direction
 * ended mid-stream). `rate` is the chance that a forwarded chunk is struck.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export type Fault = "latency" | "reset" | "stall" | "half-close";

export interface FaultProxy {
  port: number;
  injected: Map<Fault, number>;
  connections: number;
  /** Fault probability per forwarded chunk; 0 passes everything through. */
  rate: number;
  close(): Promise<void>;
}

export async function startFaultProxy(
  target: number,
  opts: { rate: number; stallMs: number },
): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const state: FaultProxy = {
    port: 0,
    injected: new Map(),
    connections: 0,
    rate: opts.rate,
    close: async () => {},
  };
  const count = (f: Fault) => state.injected.set(f, (state.injected.get(f) ?? 0) + 1);
  const server: Server = createServer((down) => {
    state.connections++;
    const up = createConnection(target, "127.0.0.1");
    for (const s of [down, up]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        down.destroy();
        up.destroy();
      });
    }
    down.on("close", () => up.destroy());
    up.on("close", () => down.destroy());
    // Faults strike chunks at random (the relay keeps its edge connections alive, so a per-connection
    // draw would hit only a handful): anywhere in request headers, bodies or answers.
    const faults: Fault[] = ["latency", "reset", "stall", "half-close"];
    let struck = false;
    const pipe = (from: Socket, to: Socket) => {
      const forward = (chunk: Buffer) => {
        if (!to.destroyed && to.writable) to.write(chunk);
      };
      from.on("data", (chunk: Buffer) => {
        if (struck || Math.random() >= state.rate) return forward(chunk);
        const fault = faults[Math.floor(Math.random() * faults.length)] as Fault;
        count(fault);
        if (fault === "latency") {
          from.pause();
          setTimeout(
            () => {
              forward(chunk);
              from.resume();
            },
            50 + Math.random() * 400,
          );
          return;
        }
        struck = true;
        // Part of the chunk gets through first, so the fault lands mid-message.
        const cut = Math.floor(Math.random() * chunk.length);
        forward(chunk.subarray(0, cut));
        if (fault === "reset") {
          from.resetAndDestroy();
          to.resetAndDestroy();
        } else if (fault === "stall") {
          from.pause();
          setTimeout(() => {
            forward(chunk.subarray(cut));
            from.resume();
            struck = false;
          }, opts.stallMs);
        } else {
          to.end(); // half-close: this direction ends, the other stays open
        }
      });
      from.on("end", () => {
        if (!to.destroyed && to.writable) to.end();
      });
    };
    pipe(down, up);
    pipe(up, down);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.port = (server.address() as { port: number }).port;
  state.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
  return state;
}
