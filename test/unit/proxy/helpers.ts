/** Shared helpers for the PROXY protocol tests. */
import { ProxyHeaderParser } from "../../../relay/proxy/parser.ts";
import type { ParseStep } from "../../../relay/proxy/types.ts";

/** Bytes from hex; whitespace (and `|` separators) ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s|]/g, "");
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex: ${text}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export interface ChunkedOutcome {
  step: ParseStep;
  /** Bytes after the header: the final step's `rest` followed by every chunk never pushed. */
  rest: Uint8Array;
  /** How many chunks were pushed. */
  pushed: number;
}

/** Splits `bytes` at `cuts` (sorted or not, duplicates allowed) and pushes the pieces until a final step. */
export function parseChunked(
  bytes: Uint8Array,
  cuts: readonly number[],
  maxHeaderBytes?: number,
): ChunkedOutcome {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const bounds = [0, ...points, bytes.length];
  const chunks: Uint8Array[] = [];
  for (let i = 1; i < bounds.length; i++) chunks.push(bytes.subarray(bounds[i - 1]!, bounds[i]!));
  const parser = new ProxyHeaderParser(maxHeaderBytes === undefined ? {} : { maxHeaderBytes });
  let step: ParseStep = { state: "need-more" };
  let pushed = 0;
  for (const chunk of chunks) {
    step = parser.push(chunk);
    pushed++;
    if (step.state !== "need-more") break;
  }
  const restParts = step.state === "done" ? [step.rest, ...chunks.slice(pushed)] : [];
  return { step, rest: concat(...restParts), pushed };
}

/** Pushes one byte at a time; returns the final step and how many bytes it took. */
export function parseByteAtATime(
  bytes: Uint8Array,
  maxHeaderBytes?: number,
): { step: ParseStep; consumed: number } {
  const parser = new ProxyHeaderParser(maxHeaderBytes === undefined ? {} : { maxHeaderBytes });
  for (let i = 0; i < bytes.length; i++) {
    const step = parser.push(bytes.subarray(i, i + 1));
    if (step.state !== "need-more") return { step, consumed: i + 1 };
  }
  return { step: { state: "need-more" }, consumed: bytes.length };
}

export const V2_SIG_HEX = "0d0a0d0a000d0a515549540a";
