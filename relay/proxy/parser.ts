/**
 * Streaming PROXY protocol (v1 and v2) header parser.
 * The version is decided from the first byte and every signature byte is checked as it arrives;
 * bytes after the header are never consumed and come back as `rest`.
 */
import { signatureFor, V1_SIGNATURE, V2_SIGNATURE } from "./signature.ts";
import type { Decoded, ParseStep, ProxyHeader } from "./types.ts";
import { decodeV1, isPlausibleV1Start, V1_MAX_LENGTH } from "./v1.ts";
import { checkFamily, checkLength, checkVerCmd, decodeV2, V2_FIXED_LENGTH } from "./v2.ts";

export const DEFAULT_MAX_HEADER_BYTES = 4096;
/** The largest v2 header the length field can describe. */
export const LARGEST_V2_HEADER = V2_FIXED_LENGTH + 0xffff;

export interface ProxyParserOptions {
  /** Cap on a v2 header (16 + len bytes); default 4096. v1 lines are always capped at 107 bytes. */
  maxHeaderBytes?: number;
}

type Phase = "signature" | "v1-line" | "v2-fixed" | "v2-body" | "finished";

const NEED_MORE: ParseStep = Object.freeze({ state: "need-more" });
const CR = 0x0d;
const LF = 0x0a;

export class ProxyHeaderParser {
  readonly #maxHeaderBytes: number;
  #phase: Phase = "signature";
  #signature: Uint8Array | null = null;
  /** Header bytes so far; re-allocated to the exact size once a v2 length is known. */
  #buffer: Uint8Array = new Uint8Array(V1_MAX_LENGTH);
  #length = 0;
  #total = 0;
  #last: ParseStep = NEED_MORE;

  constructor(options: ProxyParserOptions = {}) {
    const max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    if (!Number.isInteger(max) || max < V2_FIXED_LENGTH) {
      throw new RangeError(`maxHeaderBytes must be an integer of at least ${V2_FIXED_LENGTH}`);
    }
    this.#maxHeaderBytes = max;
  }

  /** Feeds the next bytes of the stream. After `done` or `error`, further calls return an error. */
  push(chunk: Uint8Array): ParseStep {
    if (this.#phase === "finished") {
      return this.#last.state === "error" ? this.#last : { state: "error", reason: "header already parsed" };
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#phase === "v2-body") {
        const n = Math.min(this.#total - this.#length, chunk.length - i);
        this.#buffer.set(chunk.subarray(i, i + n), this.#length);
        this.#length += n;
        i += n;
        if (this.#length === this.#total) return this.#complete(decodeV2(this.#buffer), chunk.subarray(i));
        continue;
      }
      const outcome = this.#feed(chunk[i++]!);
      if (outcome === "complete") {
        const header = this.#buffer.subarray(0, this.#length);
        const decoded = this.#signature === V1_SIGNATURE ? decodeV1(header) : decodeV2(header);
        return this.#complete(decoded, chunk.subarray(i));
      }
      if (outcome !== null) return this.#fail(outcome);
    }
    return NEED_MORE;
  }

  /** One byte outside the v2 body: null to go on, "complete", or an error reason. */
  #feed(byte: number): string | null {
    const at = this.#length;
    this.#buffer[this.#length++] = byte;
    switch (this.#phase) {
      case "signature":
        return this.#feedSignature(byte, at);
      case "v1-line":
        return this.#feedV1(byte);
      default:
        return this.#feedV2Fixed();
    }
  }

  #feedSignature(byte: number, at: number): string | null {
    if (at === 0) {
      this.#signature = signatureFor(byte);
      if (this.#signature === null) return "not a PROXY protocol header";
    }
    const signature = this.#signature!;
    if (byte !== signature[at]) {
      return signature === V1_SIGNATURE ? "invalid PROXY v1 signature" : "invalid PROXY v2 signature";
    }
    if (this.#length === signature.length) this.#phase = signature === V2_SIGNATURE ? "v2-fixed" : "v1-line";
    return null;
  }

  #feedV1(byte: number): string | null {
    const previous = this.#buffer[this.#length - 2];
    if (previous === CR) return byte === LF ? "complete" : "bare CR in PROXY v1 header";
    if (byte === LF) return "bare LF in PROXY v1 header";
    if (byte !== CR && (byte < 0x20 || byte > 0x7e)) return "control or non-ASCII byte in PROXY v1 header";
    const afterSignature = this.#length - V1_SIGNATURE.length;
    if (afterSignature <= 8) {
      const start = String.fromCharCode(...this.#buffer.subarray(V1_SIGNATURE.length, this.#length));
      if (!isPlausibleV1Start(start)) return "invalid PROXY v1 protocol";
    }
    if (this.#length >= V1_MAX_LENGTH) return "PROXY v1 header longer than 107 bytes";
    return null;
  }

  #feedV2Fixed(): string | null {
    const b = this.#buffer;
    if (this.#length === 13) return checkVerCmd(b[12]!);
    if (this.#length === 14) return checkFamily(b[13]!);
    if (this.#length < V2_FIXED_LENGTH) return null;
    const length = (b[14]! << 8) | b[15]!;
    const problem = checkLength(b[12]!, b[13]!, length, this.#maxHeaderBytes);
    if (problem !== null) return problem;
    if (length === 0) return "complete";
    this.#total = V2_FIXED_LENGTH + length;
    const body = new Uint8Array(this.#total);
    body.set(b.subarray(0, V2_FIXED_LENGTH));
    this.#buffer = body;
    this.#phase = "v2-body";
    return null;
  }

  #complete(decoded: Decoded<ProxyHeader>, rest: Uint8Array): ParseStep {
    if (!decoded.ok) return this.#fail(decoded.reason);
    this.#phase = "finished";
    this.#last = { state: "done", header: decoded.value, rest };
    return this.#last;
  }

  #fail(reason: string): ParseStep {
    this.#phase = "finished";
    this.#last = { state: "error", reason };
    return this.#last;
  }
}

/** Parses a header from bytes already in hand (`need-more` when they end inside the header). */
export function parseProxyHeader(bytes: Uint8Array, options?: ProxyParserOptions): ParseStep {
  return new ProxyHeaderParser(options).push(bytes);
}
