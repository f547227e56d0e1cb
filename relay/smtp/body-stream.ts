/**
 * Bridges smtp-server's DATA stream (a Node Readable, already dot-unstuffed) to a web ReadableStream
 * for the edge request, with backpressure, so the relay never holds the whole message.
 * If the edge stops reading early, the rest of DATA is drained (never left half-read, which would
 * stall the SMTP session); `ended` settles when smtp-server has delivered the last byte.
 */
import type { Readable } from "node:stream";

export interface BridgedBody {
  body: ReadableStream<Uint8Array>;
  /** Resolves with the byte count once the SMTP side has finished (or failed). */
  ended: Promise<{ bytes: number; error: Error | null }>;
}

export function bridgeBody(source: Readable): BridgedBody {
  let bytes = 0;
  let draining = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  const ended = new Promise<{ bytes: number; error: Error | null }>((resolve) => {
    source.once("end", () => {
      if (!draining) controllerRef?.close();
      resolve({ bytes, error: null });
    });
    source.once("error", (err: Error) => {
      if (!draining) controllerRef?.error(err);
      resolve({ bytes, error: err });
    });
  });
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        source.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (draining) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
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
