/**
 * Messages between `mxedge serve` and its edge worker thread (edge/edge-thread-host.ts ↔ edge/edge-thread.ts):
 * one HTTP exchange with the embedded Hono app, its request body streamed in chunks.
 */
import type { Config } from "../src/config.ts";

export interface EdgeWorkerData {
  config: Config;
  dataDir: string;
  relaySecret: string;
  adminToken: string;
}

/** Body bytes in flight per request (sent, not yet acknowledged) before the sender waits (flow control). */
export const BODY_WINDOW = 1024 * 1024;
/**
 * The app's reads are acknowledged in steps of this many bytes, not per chunk: a message smaller than
 * this costs no ack at all. Well below BODY_WINDOW, so a waiting sender is always woken: when it waits,
 * more than BODY_WINDOW - ACK_STEP bytes are queued unread, and reading them sends an ack.
 */
export const ACK_STEP = BODY_WINDOW / 4;

export type ToWorker =
  | {
      type: "request";
      id: number;
      url: string;
      method: string;
      headers: [string, string][];
      hasBody: boolean;
      /** The body's first chunk, and whether it is all of it (see edge-thread-host.ts: sendBody). */
      chunk?: Uint8Array;
      end?: boolean;
    }
  | { type: "body"; id: number; chunk: Uint8Array; end?: boolean }
  | { type: "end"; id: number }
  /** The relay side failed or gave up (client gone, timeout): the request body errors. */
  | { type: "abort"; id: number; reason: string }
  | { type: "close" };

export type FromWorker =
  | { type: "ready" }
  | { type: "start-failed"; message: string }
  | { type: "response"; id: number; status: number; headers: [string, string][]; body: Uint8Array }
  | { type: "failed"; id: number; message: string }
  /** The app stopped reading this request's body: stop sending it. */
  | { type: "cancel"; id: number }
  /** The app has read this many more body bytes (flow control: the sender keeps a bounded window; sent per ACK_STEP). */
  | { type: "ack"; id: number; bytes: number };
