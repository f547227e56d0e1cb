/** Reading a web stream into memory with a hard cap, so an oversized body is refused, never buffered. */
import { concatBytes } from "./encoding.ts";

export type LimitedRead = { ok: true; bytes: Uint8Array } | { ok: false; reason: "too-large"; seen: number };

export async function readLimited(
  stream: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<LimitedRead> {
  if (!stream) return { ok: true, bytes: new Uint8Array(0) };
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
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
