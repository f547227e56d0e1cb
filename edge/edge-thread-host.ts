/**
 * Runs the embedded edge on a worker thread (edge/edge-thread.ts) and gives the relay its `ingest`.
 *
 * Message bodies are streamed to the thread chunk by chunk (each chunk copied once, then transferred),
 * with at most BODY_WINDOW bytes the thread has not acknowledged in flight, and the answer comes back
 * as the relay API's typed answer. If the thread dies, every open exchange fails (the relay turns that
 * into 451) and the next message starts a new thread.
 */
import { Worker } from "node:worker_threads";
import type { IngestResponse, Transaction } from "../src/contract.ts";
import { BODY_WINDOW, type EdgeWorkerData, type FromWorker, type ToWorker } from "./edge-thread-protocol.ts";
import type { RelayAnswer } from "./relay-api.ts";

export interface EdgeThread {
  /** Hands one message to the thread; `signal` gives up on it (the relay's deadline, a lost client). */
  ingest(
    transaction: Transaction,
    idempotencyKey: string,
    body: ReadableStream<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<RelayAnswer<IngestResponse>>;
  close(): Promise<void>;
}

interface Open {
  resolve(answer: RelayAnswer<IngestResponse>): void;
  reject(error: Error): void;
  /** Set while the message body is still being sent. */
  reader: ReadableStreamDefaultReader<Uint8Array> | null;
  /** Body bytes sent but not yet acknowledged by the thread, and who waits for that to shrink. */
  inFlight: number;
  wake: (() => void) | null;
  /** The ingest message has gone to the thread (it goes with the body's first chunk). */
  headSent: boolean;
}

type IngestHead = Extract<ToWorker, { type: "ingest" }>;

const ENTRY = new URL("./edge-thread.ts", import.meta.url);

function spawn(data: EdgeWorkerData): Promise<Worker> {
  const worker = new Worker(ENTRY, { workerData: data });
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.type === "ready") {
        worker.off("message", onMessage);
        resolve(worker);
      } else if (m.type === "start-failed") reject(new Error(`edge thread failed to start: ${m.message}`));
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`edge thread exited with ${code} while starting`)));
  });
}

export async function startEdgeThread(data: EdgeWorkerData): Promise<EdgeThread> {
  const open = new Map<number, Open>();
  let nextId = 1;
  let closing = false;
  let current: Promise<Worker> = spawn(data).then(attach);

  function attach(worker: Worker): Worker {
    worker.on("message", (m: FromWorker) => {
      if (m.type === "ready" || m.type === "start-failed") return;
      const entry = open.get(m.id);
      if (!entry) return;
      if (m.type === "ack") {
        entry.inFlight -= m.bytes;
        entry.wake?.();
        entry.wake = null;
        return;
      }
      if (m.type === "cancel") {
        void entry.reader?.cancel().catch(() => {});
        entry.reader = null;
        entry.wake?.();
        return;
      }
      open.delete(m.id);
      void entry.reader?.cancel().catch(() => {});
      entry.wake?.();
      if (m.type === "failed") entry.reject(new Error(`edge thread: ${m.message}`));
      else entry.resolve(m.answer);
    });
    const fail = (reason: string) => {
      for (const [id, entry] of open) {
        open.delete(id);
        void entry.reader?.cancel().catch(() => {});
        entry.wake?.();
        entry.reject(new Error(reason));
      }
      // The next message starts a new thread (unless the server is shutting down).
      if (!closing) current = spawn(data).then(attach);
    };
    worker.once("error", (err) => fail(`edge thread crashed: ${err.message}`));
    worker.once("exit", (code) => fail(`edge thread exited with ${code}`));
    return worker;
  }

  // Fail start-up loudly: the caller decides whether to fall back to running the edge in-process.
  await current;

  /**
   * Streams a message body to the thread. The ingest message goes with the first chunk, and each chunk
   * is held until the next read tells whether the body goes on, so it can carry `end`: a message that
   * is complete when it is read (an SMTP DATA of one or two socket reads) crosses as one postMessage
   * instead of head + body + end.
   */
  async function sendBody(worker: Worker, head: IngestHead, body: ReadableStream<Uint8Array>): Promise<void> {
    const { id } = head;
    const reader = body.getReader();
    const entry = open.get(id);
    if (!entry) return void reader.cancel().catch(() => {});
    entry.reader = reader;
    const send = (m: ToWorker, transfer: ArrayBuffer[] = []) => worker.postMessage(m, transfer);
    let held: Uint8Array | null = null;
    const post = (end: boolean) => {
      const chunk = held;
      held = null;
      if (chunk) entry.inFlight += chunk.length; // before the transfer, which empties `chunk`
      const transfer = chunk ? [chunk.buffer as ArrayBuffer] : [];
      if (!entry.headSent) {
        entry.headSent = true;
        send(chunk ? { ...head, chunk, end } : { ...head, end }, transfer);
      } else if (chunk) send({ type: "body", id, chunk, end }, transfer);
      else if (end) send({ type: "end", id });
    };
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (open.get(id)?.reader !== reader) return; // answered or cancelled meanwhile
        if (done) return post(true);
        if (value.length === 0) continue;
        if (held) post(false);
        // A chunk may be a view into a larger (pooled) buffer: copy it; the copy is moved when sent.
        held = value.slice();
        while (entry.inFlight > BODY_WINDOW && open.get(id)?.reader === reader) {
          await new Promise<void>((r) => {
            entry.wake = r;
          });
        }
      }
    } catch (err) {
      if (open.get(id) !== entry) return;
      // The body failed (the client went away mid-DATA): nothing is stored, and the thread drops it.
      open.delete(id);
      if (entry.headSent) send({ type: "abort", id, reason: (err as Error).message || "body failed" });
      entry.reject(new Error(`message body failed: ${(err as Error).message}`));
    }
  }

  const ingest: EdgeThread["ingest"] = async (transaction, idempotencyKey, body, signal) => {
    const worker = await current;
    const id = nextId++;
    return new Promise<RelayAnswer<IngestResponse>>((resolve, reject) => {
      const entry: Open = { resolve, reject, reader: null, inFlight: 0, wake: null, headSent: false };
      open.set(id, entry);
      signal?.addEventListener(
        "abort",
        () => {
          if (open.get(id) !== entry) return;
          open.delete(id);
          void entry.reader?.cancel().catch(() => {});
          entry.wake?.();
          // A message still held here never reached the thread: nothing to abort there.
          if (entry.headSent) worker.postMessage({ type: "abort", id, reason: "aborted" } satisfies ToWorker);
          entry.reject(new Error("ingest aborted"));
        },
        { once: true },
      );
      void sendBody(worker, { type: "ingest", id, transaction, idempotencyKey }, body);
    });
  };

  return {
    ingest,
    async close() {
      closing = true;
      const worker = await current.catch(() => null);
      if (!worker) return;
      const exited = new Promise<void>((r) => worker.once("exit", () => r()));
      worker.postMessage({ type: "close" } satisfies ToWorker);
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
