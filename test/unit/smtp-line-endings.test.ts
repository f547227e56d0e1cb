import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasBareNewline, LineEndingFilter } from "../../src/pipeline/line-endings.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reference: every CR/LF not part of a CRLF pair becomes CRLF. */
const normalizeRef = (s: string) => s.replace(/\r\n|\r|\n/g, "\r\n");
const bareRef = (s: string) => /\r(?!\n)|(?<!\r)\n/.test(s);

function run(policy: "reject" | "normalize", chunks: string[]): string | null {
  const f = new LineEndingFilter(policy);
  let out = "";
  for (const c of chunks) {
    const r = f.push(enc(c));
    if (r === null) return null;
    out += dec(r);
  }
  const tail = f.finish();
  return tail === null ? null : out + dec(tail);
}

describe("LineEndingFilter", () => {
  it.each([
    "a\n.\nb",
    "a\r.\rb",
    "a\r.\nb",
    "a\n.\rb",
    "a\n.\r\nb",
    "a\r\n.\nb",
    "a\r.\r\nb",
    "a\r\n.\rb",
    "x\r",
    "\nx",
  ])("rejects %j and normalizes it to CRLF", (s) => {
    expect(run("reject", [s])).toBeNull();
    expect(hasBareNewline(enc(s))).toBe(true);
    expect(run("normalize", [s])).toBe(normalizeRef(s));
  });

  it("passes clean CRLF text unchanged, also when a CRLF straddles chunks", () => {
    expect(run("reject", ["a\r", "\nb\r\n\0.\r\n"])).toBe("a\r\nb\r\n\0.\r\n");
    expect(hasBareNewline(enc("Subject: x\r\n\r\nbody\r\n"))).toBe(false);
  });

  it("agrees with the reference for any text and any chunking", () => {
    const text = fc.string({ unit: fc.constantFrom("a", ".", "\r", "\n", "\0"), maxLength: 40 });
    fc.assert(
      fc.property(text, fc.array(fc.nat(40), { maxLength: 5 }), (s, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(s.slice(prev, p));
          prev = p;
        }
        chunks.push(s.slice(prev));
        expect(run("normalize", chunks)).toBe(normalizeRef(s));
        expect(run("reject", chunks) === null).toBe(bareRef(s));
        if (!bareRef(s)) expect(run("reject", chunks)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});
