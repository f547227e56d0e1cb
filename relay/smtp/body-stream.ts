/**
 * Bridges smtp-server's DATA stream (a Node Readable, already dot-unstuffed) to a web ReadableStream
 * for the edge request, with backpressure, so the relay never holds the whole message.
 *
 * An optional filter (the bare CR/LF policy) sees every chunk first; when it refuses the data, the web
 * stream is errored (so the edge request fails and nothing can be stored) and the rest of DATA is drained.
 * If the edge stops reading early, the rest of DATA is drained too (never left half-read, which would
 * stall the SMTP session). `ended` settles when smtp-server has delivered the last byte.
 *
 * The web stream only ever closes normally after smtp-server's stream ended normally: a client that
 * disconnects mid-DATA errors it, so a truncated message can never look complete to the edge.
 */
import type { Readable } from "node:stream";
import { garbageGuard } from "./memory.ts";

export interface ChunkFilter {
  /** The bytes to pass on, or null to refuse the message. */
  push(chunk: Uint8Array): Uint8Array | null;
  finish(): Uint8Array | null;
}

export interface BodyEnd {
  /** Bytes received from the SMTP client (after dot-unstuffing, before filtering). */
  bytes: number;
  /** The SMTP side failed (client went away, stream error). */
  error: Error | null;
  /** The filter refused the data. */
  refused: boolean;
}

export interface BridgedBody {
  body: ReadableStream<Uint8Array>;
  ended: Promise<BodyEnd>;
}

export class RefusedByFilter extends Error {}

export function bridgeBody(source: Readable, filter?: ChunkFilter): BridgedBody {
  let bytes = 0;
  let draining = false;
  let refused = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  const collect = garbageGuard(); // a big message must not leave its chunks' memory for the GC to find late

  const refuse = () => {
    refused = true;
    if (!draining) controllerRef?.error(new RefusedByFilter("message refused by the content filter"));
    draining = true;
    source.resume();
  };
  const enqueue = (chunk: Uint8Array) => {
    if (draining || chunk.length === 0) return;
    controllerRef?.enqueue(chunk);
  };

  const ended = new Promise<BodyEnd>((resolve) => {
    source.once("end", () => {
      if (!draining && filter) {
        const tail = filter.finish();
        if (tail === null) refuse();
        else enqueue(tail);
      }
      if (!draining) controllerRef?.close();
      resolve({ bytes, error: null, refused });
    });
    source.once("error", (err: Error) => {
      if (!draining) controllerRef?.error(err);
      draining = true;
      resolve({ bytes, error: err, refused });
    });
  });
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        source.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          collect(bytes);
          if (draining) return;
          let out: Uint8Array | null = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
          if (filter) out = filter.push(out);
          if (out === null) return refuse();
          enqueue(out);
          if ((controller.desiredSize ?? 1) <= 0) source.pause();
        });
      },
      pull() {
        source.resume();
      },
      cancel() {
        draining = true;
        source.resume();
      },
    },
    { highWaterMark: 4 },
  );
  return { body, ended };
}
