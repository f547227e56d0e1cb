/**
 * Bare CR / bare LF handling for message content (SMTP smuggling, Postfix `smtpd_forbid_bare_newline`).
 *
 * RFC 5321 §2.3.8 allows CR and LF in DATA only as the pair CRLF. A receiver that treats `<LF>.<LF>` or
 * `<CR>.<CR>` as the end of DATA while an upstream server does not lets an attacker hide a second
 * message inside the first ("SMTP smuggling"). smtp-server ends DATA only at `<CR><LF>.<CR><LF>`, and
 * this filter makes sure nothing with a bare CR or LF is ever stored, so a stored message can never be
 * re-split downstream either:
 *
 *   - "reject" (default): the first bare CR or LF fails the transaction.
 *   - "normalize": each bare CR or LF becomes CRLF (the missing half is inserted).
 *
 * Works on a stream of chunks, remembering a CR at the end of one chunk for the next.
 */
import type { SmtpReply } from "../contract.ts";

export type BareNewlinePolicy = "reject" | "normalize";

/** RFC 5321 §2.3.8: CR and LF only as CRLF. 554 (transaction failed) with 5.5.2 (syntax error), as Postfix. */
export const BARE_NEWLINE: SmtpReply = {
  code: 554,
  enhanced: "5.5.2",
  message: "Bare CR or LF in message content is not allowed (RFC 5321 section 2.3.8)",
};

const CR = 0x0d;
const LF = 0x0a;
const CRLF = new Uint8Array([CR, LF]);

export class LineEndingFilter {
  readonly #policy: BareNewlinePolicy;
  /** The previous chunk ended with a CR whose LF has not been seen yet. */
  #pendingCr = false;
  #violation = false;

  constructor(policy: BareNewlinePolicy) {
    this.#policy = policy;
  }

  /** True once a bare CR or LF was seen (in either mode). */
  get sawBareNewline(): boolean {
    return this.#violation;
  }

  /**
   * Filters one chunk. Returns the bytes to pass on, or null in "reject" mode once a bare CR/LF is seen
   * (the caller must then fail the transaction; later calls keep returning null).
   */
  push(chunk: Uint8Array): Uint8Array | null {
    if (this.#violation && this.#policy === "reject") return null;
    const parts: Uint8Array[] = [];
    let from = 0; // start of the not-yet-copied part of `chunk`
    let i = 0;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      if (chunk.length === 0) {
        this.#pendingCr = true;
        return chunk;
      }
      if (chunk[0] === LF) i = 1;
      else if (!this.#bare()) return null;
      else parts.push(CRLF.subarray(1)); // the CR went out with the previous chunk: add its LF
    }
    const next = newlineFinder(chunk);
    for (;;) {
      const at = next(i);
      if (at < 0) break;
      if (chunk[at] === CR) {
        if (at + 1 === chunk.length) {
          this.#pendingCr = true;
          break;
        }
        if (chunk[at + 1] === LF) {
          i = at + 2;
          continue;
        }
        // bare CR
        if (!this.#bare()) return null;
        parts.push(chunk.subarray(from, at + 1), CRLF.subarray(1));
        from = at + 1;
        i = at + 1;
        continue;
      }
      // LF not preceded by CR (a CRLF pair is skipped above)
      if (!this.#bare()) return null;
      parts.push(chunk.subarray(from, at), CRLF);
      from = at + 1;
      i = at + 1;
    }
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(from));
    return join(parts);
  }

  /** Call at the end of the data; returns trailing bytes to pass on, or null on a violation. */
  finish(): Uint8Array | null {
    if (this.#violation && this.#policy === "reject") return null;
    if (!this.#pendingCr) return new Uint8Array(0);
    this.#pendingCr = false;
    return this.#bare() ? CRLF.subarray(1) : null;
  }

  /** Records a bare CR/LF; true when the policy lets the data continue (normalize). */
  #bare(): boolean {
    this.#violation = true;
    return this.#policy === "normalize";
  }
}

/** The next CR or LF at or after `from`; each byte is scanned at most once per kind (no rescans). */
function newlineFinder(chunk: Uint8Array): (from: number) => number {
  let cr = -2;
  let lf = -2;
  return (from) => {
    if (cr !== -1 && cr < from) cr = chunk.indexOf(CR, from);
    if (lf !== -1 && lf < from) lf = chunk.indexOf(LF, from);
    if (cr < 0) return lf;
    if (lf < 0) return cr;
    return Math.min(cr, lf);
  };
}

function join(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** True when `raw` holds a CR not followed by LF or an LF not preceded by CR. */
export function hasBareNewline(raw: Uint8Array): boolean {
  const f = new LineEndingFilter("reject");
  return f.push(raw) === null || f.finish() === null;
}
