/** Reading a web stream into memory with a hard cap, so an oversized body is refused, never buffered. */
import { concatBytes } from "./encoding.ts";

export type LimitedRead = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too-large"; seen: number };

/** Reads `stream` whole, up to `max` bytes; `signal` cancels the stream and fails the read. */
export async function readLimited(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
  signal?: AbortSignal,
): Promise<LimitedRead> {
  if (!stream) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  signal?.throwIfAborted();
  signal?.addEventListener("abort", () => void reader.cancel(signal.reason).catch(() => {}), { once: true });
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    signal?.throwIfAborted();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel("message too large").catch(() => {});
      return { ok: false, reason: "too-large", seen: total };
    }
    parts.push(value);
  }
  return { ok: true, bytes: concatBytes(parts, total) };
}
