/**
 * `new EmailMessage(from, to, raw)`: the message reply() takes, as Cloudflare's `cloudflare:email` module
 * defines it, but importable on Node and Deno too (import it from "mxedge/edge").
 */
import type { RawEmailMessage } from "../../src/pipeline/handler-message.ts";

export class EmailMessage implements RawEmailMessage {
  readonly from: string;
  readonly to: string;
  readonly raw: ReadableStream<Uint8Array> | string | Uint8Array;
  constructor(from: string, to: string, raw: ReadableStream<Uint8Array> | string | Uint8Array) {
    this.from = from;
    this.to = to;
    this.raw = raw;
  }
}
