/**
 * The embedded edge on its own thread: `mxedge serve` runs SMTP/IMAP on the main thread and hands the
 * relay API (recipient checks, AUTH, message ingest) to this worker, so parsing, authentication, rules
 * and SQLite commits use the second core. It opens the same SQLite file (WAL: one writer at a time,
 * readers never blocked) with the same options the main thread would use.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ACK_STEP, type EdgeWorkerData, type FromWorker, type ToWorker } from "./edge-thread-protocol.ts";
import { embeddedEdgeOptions, openEmbeddedEdge } from "./embedded.ts";

const port = parentPort;
if (!port) throw new Error("edge/edge-thread.ts runs as a worker thread");
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const data = workerData as EdgeWorkerData;
let edge: Awaited<ReturnType<typeof openEmbeddedEdge>>;
try {
  edge = await openEmbeddedEdge(embeddedEdgeOptions(data.config, data.dataDir, data));
} catch (err) {
  post({ type: "start-failed", message: (err as Error).message });
  process.exit(1);
}

/**
 * A request body arriving from the main thread: chunks wait here until the app reads them, and reads are
 * acknowledged (every ACK_STEP bytes), so the main thread never has more than its window in flight.
 */
class IncomingBody {
  readonly stream: ReadableStream<Uint8Array>;
  #queue: Uint8Array[] = [];
  #ended = false;
  #failed: Error | null = null;
  #wake: (() => void) | null = null;
  /** Bytes the app has read and the main thread has not yet been told about. */
  #unacked = 0;

  constructor(id: number) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (this.#queue.length === 0 && !this.#ended && !this.#failed) {
            await new Promise<void>((r) => {
              this.#wake = r;
            });
          }
          if (this.#failed) return controller.error(this.#failed);
          const chunk = this.#queue.shift();
          if (chunk) {
            controller.enqueue(chunk);
            this.#unacked += chunk.length;
            if (this.#unacked >= ACK_STEP) {
              post({ type: "ack", id, bytes: this.#unacked });
              this.#unacked = 0;
            }
          } else controller.close();
        },
        cancel: () => {
          if (bodies.delete(id)) post({ type: "cancel", id });
        },
      },
      { highWaterMark: 0 },
    );
  }

  #notify() {
    this.#wake?.();
    this.#wake = null;
  }
  push(chunk: Uint8Array) {
    this.#queue.push(chunk);
    this.#notify();
  }
  end() {
    this.#ended = true;
    this.#notify();
  }
  fail(error: Error) {
    this.#failed = error;
    this.#notify();
  }
}

/** Request bodies still arriving from the main thread. */
const bodies = new Map<number, IncomingBody>();

async function exchange(id: number, request: Request): Promise<void> {
  try {
    const response = await edge.app.fetch(request);
    const body = new Uint8Array(await response.arrayBuffer());
    if (bodies.has(id)) {
      // Answered before reading the whole body (a refusal): the main thread can stop sending.
      bodies.delete(id);
      post({ type: "cancel", id });
    }
    post({ type: "response", id, status: response.status, headers: [...response.headers], body }, [
      body.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    bodies.delete(id);
    post({ type: "failed", id, message: (err as Error).message });
  }
}

port.on("message", (m: ToWorker) => {
  switch (m.type) {
    case "request": {
      let body: ReadableStream<Uint8Array> | null = null;
      if (m.hasBody) {
        const incoming = new IncomingBody(m.id);
        if (m.chunk) incoming.push(m.chunk);
        if (m.end) incoming.end();
        else bodies.set(m.id, incoming);
        body = incoming.stream;
      }
      const request = new Request(m.url, {
        method: m.method,
        headers: m.headers,
        body,
        ...(body ? { duplex: "half" } : {}),
      } as RequestInit);
      void exchange(m.id, request);
      return;
    }
    case "body":
      bodies.get(m.id)?.push(m.chunk);
      if (m.end) {
        bodies.get(m.id)?.end();
        bodies.delete(m.id);
      }
      return;
    case "end":
      bodies.get(m.id)?.end();
      bodies.delete(m.id);
      return;
    case "abort":
      bodies.get(m.id)?.fail(new Error(m.reason));
      bodies.delete(m.id);
      return;
    case "close":
      // Commits what the group commit still holds, then lets the thread end.
      edge.close();
      port.close();
      return;
  }
});
post({ type: "ready" });
