/**
 * ENVELOPE, BODY and BODYSTRUCTURE for a corpus of tricky MIME (test/fixtures/imap-mime/*.eml),
 * compared with what Debian's Dovecot answered for the same bytes (recorded by record-dovecot.ts).
 * Values are compared as parsed trees; strings case-insensitively (MIME types, encodings and
 * parameter names are case-insensitive, and Dovecot lower-cases them).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeStructure, loadStructure } from "../../src/imap/structure.ts";

type V = null | string | number | V[];
const dir = join(import.meta.dirname, "../fixtures/imap-mime");
const recorded = JSON.parse(readFileSync(join(dir, "dovecot.json"), "utf8")) as Record<
  string,
  Record<string, string>
>;

/** Parses one IMAP value (as a server sends it) into a tree; strings lower-cased. */
function parse(text: string): V {
  const b = Buffer.from(text, "utf8");
  let i = 0;
  const value = (): V => {
    while (b[i] === 0x20) i++;
    const c = b[i];
    if (c === 0x28) {
      i++;
      const out: V[] = [];
      for (;;) {
        while (b[i] === 0x20) i++;
        if (b[i] === 0x29) {
          i++;
          return out;
        }
        if (i >= b.length) throw new Error("unterminated list");
        out.push(value());
      }
    }
    if (c === 0x22) {
      i++;
      const bytes: number[] = [];
      while (b[i] !== 0x22) {
        if (b[i] === 0x5c) i++;
        bytes.push(b[i] as number);
        i++;
      }
      i++;
      return Buffer.from(bytes).toString("utf8").toLowerCase();
    }
    if (c === 0x7b) {
      const close = b.indexOf(0x7d, i);
      const n = Number(b.subarray(i + 1, close).toString());
      i = close + 3;
      const s = b.subarray(i, i + n).toString("utf8");
      i += n;
      return s.toLowerCase();
    }
    let j = i;
    while (j < b.length && b[j] !== 0x20 && b[j] !== 0x29 && b[j] !== 0x28) j++;
    const atom = b.subarray(i, j).toString();
    i = j;
    if (atom === "NIL") return null;
    if (/^\d+$/.test(atom)) return Number(atom);
    return atom.toLowerCase();
  };
  return value();
}

/**
 * Where mxedge deliberately answers differently, the recorded answer is adjusted here, each with why:
 * - A message/rfc822 part whose inner multipart is closed: Dovecot counts the CRLF before the outer
 *   boundary into the part (2 bytes, 1 line); RFC 2046 §5.1.1 gives that CRLF to the boundary.
 * - "Content-Type: text" (no subtype) is invalid; RFC 2045 §5.2 says treat it as text/plain, where
 *   Dovecot reports an empty subtype.
 */
const KNOWN: Record<string, Array<[string, string]>> = {
  "02-nested-rfc822.eml": [
    [' "7bit" 315 (', ' "7bit" 313 ('],
    [" NIL NIL NIL) 15 ", " NIL NIL NIL) 14 "],
    ['"alternative") 15)', '"alternative") 14)'],
  ],
  "08-bad-content-type.eml": [['("text" "" ', '("text" "plain" ']],
};

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".eml"))
  .sort();

describe("ENVELOPE/BODY/BODYSTRUCTURE match Dovecot's answers", () => {
  it("has a recorded answer for every message in the corpus", () => {
    expect(Object.keys(recorded).sort()).toEqual(files);
  });
  for (const file of files) {
    it(file, () => {
      const raw = new Uint8Array(readFileSync(join(dir, file)));
      const s = computeStructure(raw);
      // What FETCH serves is the stored form, so read it back the same way.
      const view = loadStructure(JSON.stringify(s), raw.length);
      expect(view).not.toBeNull();
      const want = { ...(recorded[file] as Record<string, string>) };
      for (const [from, to] of KNOWN[file] ?? []) {
        for (const k of Object.keys(want)) want[k] = (want[k] as string).replace(from, to);
      }
      expect(parse(view?.env as string)).toEqual(parse(want.ENVELOPE as string));
      expect(parse(view?.body as string)).toEqual(parse(want.BODY as string));
      expect(parse(view?.bs as string)).toEqual(parse(want.BODYSTRUCTURE as string));
    });
  }
});
