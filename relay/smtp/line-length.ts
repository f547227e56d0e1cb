/**
 * The longest line accepted inside DATA (config `limits.maxDataLineBytes`, counted with its CRLF).
 *
 * RFC 5321 §4.5.3.1.6 caps a text line at 1000 octets including CRLF, but also asks receivers to accept
 * more where they can, and Postfix accepts any length (it only chops lines internally at
 * line_length_limit = 2048 and joins them again on delivery). Refusing at 1000 would bounce real mail
 * from sloppy senders, so the default is far above what any legitimate sender writes (64 KiB), and it
 * still stops a single multi-megabyte "line" from reaching the edge's line-oriented parsers.
 * A message over the limit is refused as a whole (554 5.6.0), never cut or re-wrapped: re-wrapping
 * would break DKIM signatures.
 */
import type { SmtpReply } from "../../src/contract.ts";

export const lineTooLong = (max: number): SmtpReply => ({
  code: 554,
  enhanced: "5.6.0",
  message: `Message has a line longer than ${max} octets`,
});

export class LineLengthLimit {
  readonly #max: number;
  /** Bytes of the current (unfinished) line so far. */
  #current = 0;
  #exceeded = false;

  constructor(max: number) {
    this.#max = max;
  }

  get exceeded(): boolean {
    return this.#exceeded;
  }

  /** Feeds one chunk; false once a line (CRLF included) is longer than the limit. */
  check(chunk: Uint8Array): boolean {
    if (this.#exceeded) return false;
    let from = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, from);
      const end = lf < 0 ? chunk.length : lf + 1;
      this.#current += end - from;
      if (this.#current > this.#max) {
        this.#exceeded = true;
        return false;
      }
      if (lf < 0) return true;
      this.#current = 0;
      from = end;
    }
  }
}
