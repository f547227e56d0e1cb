/**
 * Messages between `mxedge serve` and its edge worker thread (edge/edge-thread-host.ts ↔ edge/edge-thread.ts):
 * one message ingest (edge/relay-api.ts) per exchange, its body streamed in chunks, the answer typed.
 */
import type { Config } from "../src/config.ts";
import type { IngestResponse, Transaction } from "../src/contract.ts";
import type { RelayAnswer } from "./relay-api.ts";

export interface EdgeWorkerData {
  config: Config;
  dataDir: string;
  relaySecret: string;
  adminToken: string;
}

/** Body bytes in flight per request (sent, not yet acknowledged) before the sender waits (flow control). */
export const BODY_WINDOW = 1024 * 1024;
/**
 * Received bytes are acknowledged in steps of this many bytes, not per chunk: a message smaller than
 * this costs no ack at all. Below BODY_WINDOW, so a waiting sender is always woken: the thread takes
 * every chunk as it arrives, and acknowledges each ACK_STEP of them.
 */
export const ACK_STEP = BODY_WINDOW / 4;

export type ToWorker =
  | {
      type: "ingest";
      id: number;
      transaction: Transaction;
      idempotencyKey: string;
      /** The body's first chunk, and whether it is all of it (see edge-thread-host.ts: sendBody). */
      chunk?: Uint8Array;
      end?: boolean;
    }
  | { type: "body"; id: number; chunk: Uint8Array; end?: boolean }
  | { type: "end"; id: number }
  /** The relay side failed or gave up (client gone, timeout): the message is dropped unanswered. */
  | { type: "abort"; id: number; reason: string }
  | { type: "close" };

export type FromWorker =
  | { type: "ready" }
  | { type: "start-failed"; message: string }
  | { type: "answer"; id: number; answer: RelayAnswer<IngestResponse> }
  /** The ingest threw (a bug or a broken database): the relay answers 451. */
  | { type: "failed"; id: number; message: string }
  /** The edge answered before the body ended (too large): stop sending it. */
  | { type: "cancel"; id: number }
  /** The thread has taken this many more body bytes (flow control: the sender keeps a bounded window; sent per ACK_STEP). */
  | { type: "ack"; id: number; bytes: number };
