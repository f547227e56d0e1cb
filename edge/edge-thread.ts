/**
 * The embedded edge on its own thread: `mxedge serve` runs SMTP/IMAP on the main thread and hands
 * message ingest (edge/relay-api.ts: parse, authenticate, rules, store) to this worker, so it uses
 * the second core. It opens the same SQLite file (WAL: one writer at a time, readers never blocked)
 * with the same options the main thread would use.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Transaction } from "../src/contract.ts";
import { concatBytes } from "../src/encoding.ts";
import { ACK_STEP, type EdgeWorkerData, type FromWorker, type ToWorker } from "./edge-thread-protocol.ts";
import { embeddedEdgeOptions, openEmbeddedEdge } from "./embedded.ts";
import { tooLarge } from "./relay-api.ts";

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

/** A message whose body is still arriving from the main thread. */
interface Incoming {
  transaction: Transaction;
  idempotencyKey: string;
  parts: Uint8Array[];
  size: number;
  /** Bytes taken and not yet acknowledged to the main thread. */
  unacked: number;
}

const incoming = new Map<number, Incoming>();

async function ingest(id: number, m: Incoming): Promise<void> {
  try {
    // A message that came in one chunk is used as it is: the chunk was copied for the transfer.
    const raw = m.parts.length === 1 ? m.parts[0]! : concatBytes(m.parts, m.size);
    const answer = await edge.relay.ingest({
      transaction: m.transaction,
      idempotencyKey: m.idempotencyKey,
      raw,
    });
    post({ type: "answer", id, answer });
  } catch (err) {
    post({ type: "failed", id, message: (err as Error).message });
  }
}

/** Takes a chunk, and ingests the message at its end; once it is over the size limit it is refused and dropped. */
function take(id: number, m: Incoming, chunk: Uint8Array | undefined, end: boolean | undefined): void {
  if (chunk) {
    m.parts.push(chunk);
    m.size += chunk.length;
    if (m.size > edge.relay.maxMessageBytes) {
      incoming.delete(id);
      post({ type: "cancel", id });
      post({ type: "answer", id, answer: tooLarge });
      return;
    }
    m.unacked += chunk.length;
    if (m.unacked >= ACK_STEP) {
      post({ type: "ack", id, bytes: m.unacked });
      m.unacked = 0;
    }
  }
  if (end) {
    incoming.delete(id);
    void ingest(id, m);
  }
}

port.on("message", (m: ToWorker) => {
  switch (m.type) {
    case "ingest": {
      const message: Incoming = {
        transaction: m.transaction,
        idempotencyKey: m.idempotencyKey,
        parts: [],
        size: 0,
        unacked: 0,
      };
      incoming.set(m.id, message);
      take(m.id, message, m.chunk, m.end);
      return;
    }
    case "body": {
      const message = incoming.get(m.id);
      if (message) take(m.id, message, m.chunk, m.end);
      return;
    }
    case "end": {
      const message = incoming.get(m.id);
      if (message) take(m.id, message, undefined, true);
      return;
    }
    case "abort":
      incoming.delete(m.id);
      return;
    case "close":
      // Commits what the group commit still holds, then lets the thread end.
      edge.close();
      port.close();
      return;
  }
});
post({ type: "ready" });
