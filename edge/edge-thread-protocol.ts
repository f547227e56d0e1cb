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

export type ToWorker =
  | {
      type: "request";
      id: number;
      url: string;
      method: string;
      headers: [string, string][];
      hasBody: boolean;
    }
  | { type: "body"; id: number; chunk: Uint8Array }
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
  /** The app has read this many more body bytes (flow control: the sender keeps a bounded window). */
  | { type: "ack"; id: number; bytes: number };
