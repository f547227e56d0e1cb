/**
 * In-process fuzz targets: each takes one input (bytes) and must return without throwing anything but
 * the documented errors, in bounded time and memory. Inputs come from grammar-aware fast-check
 * generators, mutations of the checked-in corpus (test/reliability/corpus/<target>/), and raw bytes.
 */
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { encodeV1, encodeV2 } from "../../../relay/proxy/encode.ts";
import { ProxyHeaderParser, parseProxyHeader } from "../../../relay/proxy/parser.ts";
import { bodyStructure } from "../../../src/imap/bodystructure.ts";
import { encodeToString } from "../../../src/imap/encode.ts";
import { envelope } from "../../../src/imap/envelope.ts";
import { parseHeaders, parseMime } from "../../../src/imap/mime.ts";
import { CommandParser, tokenize } from "../../../src/imap/parser.ts";
import { extractSection, parseSection } from "../../../src/imap/section.ts";
import { v1Header, v2Header } from "../../unit/proxy/arbitraries.ts";

const enc = new TextEncoder();

export interface Target {
  name: string;
  /** Builds generators that may draw from the corpus seeds. */
  arbitrary(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array>;
  /** One execution; throws on a bug. */
  run(input: Uint8Array): void;
}

/** Byte-level mutations of a seed: flips, cuts, splices, insertions of interesting bytes, duplication. */
export function mutated(seed: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const interesting = [0x00, 0x0a, 0x0d, 0x20, 0x22, 0x28, 0x29, 0x2e, 0x7b, 0x7d, 0x5c, 0x7f, 0x80, 0xff];
  const op = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: fc.constantFrom(...interesting) }),
    fc.record({ kind: fc.constant("dup" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  );
  return fc.tuple(seed, fc.array(op, { minLength: 1, maxLength: 8 })).map(([s, ops]) => {
    let b = Buffer.from(s);
    for (const o of ops) {
      const at = b.length === 0 ? 0 : o.at % b.length;
      if (o.kind === "flip" && b.length > 0) b[at] = (b[at] ?? 0) ^ (1 << o.bit);
      else if (o.kind === "cut") b = Buffer.concat([b.subarray(0, at), b.subarray(at + o.len)]);
      else if (o.kind === "insert")
        b = Buffer.concat([b.subarray(0, at), Buffer.from([o.byte]), b.subarray(at)]);
      else if (o.kind === "dup") b = Buffer.concat([b.subarray(0, at + o.len), b.subarray(at)]);
      else if (o.kind === "truncate") b = b.subarray(0, at);
    }
    return new Uint8Array(b);
  });
}

function withSeeds(seeds: Uint8Array[], ...gens: Array<fc.Arbitrary<Uint8Array>>): fc.Arbitrary<Uint8Array> {
  const fromSeeds = seeds.length > 0 ? [mutated(fc.constantFrom(...seeds)), fc.constantFrom(...seeds)] : [];
  return fc.oneof(...fromSeeds, ...gens);
}

/** Splits `bytes` at pseudo-random points derived from its content (deterministic per input). */
function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  let x = bytes.length * 2654435761;
  while (i < bytes.length) {
    x = (x * 1103515245 + 12345) >>> 0;
    const n = 1 + (x % 97);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

// ---- PROXY v1/v2 -------------------------------------------------------------------------------------

const proxyTarget: Target = {
  name: "proxy",
  arbitrary: (seeds) =>
    withSeeds(
      seeds,
      mutated(v2Header.map((h) => encodeV2(h))),
      mutated(v1Header.map((h) => encodeV1(h))),
      fc.uint8Array({ maxLength: 300 }).map(
        (b) =>
          new Uint8Array([
            ...encodeV2({
              command: "local",
              family: "unspec",
              source: null,
              destination: null,
              tlvs: {
                alpn: null,
                authority: null,
                crc32c: null,
                uniqueId: null,
                netns: null,
                ssl: null,
                unknown: [],
              },
            }).subarray(0, 12),
            ...b,
          ]),
      ),
      fc.uint8Array({ maxLength: 200 }),
    ),
  run(input) {
    const whole = parseProxyHeader(input);
    const p = new ProxyHeaderParser();
    let step = p.push(new Uint8Array(0));
    for (const c of chunks(input)) {
      step = p.push(c);
      if (step.state !== "need-more") break;
    }
    // Whole and chunked parsing must agree on the outcome (and the header, when there is one).
    if (whole.state !== step.state) throw new Error(`whole=${whole.state} chunked=${step.state}`);
    if (whole.state === "done" && step.state === "done" && !isDeepStrictEqual(whole.header, step.header)) {
      throw new Error("whole and chunked headers differ");
    }
  },
};

// ---- IMAP command parser -----------------------------------------------------------------------------

const imapAtom = fc.constantFrom(
  "a1",
  "*",
  "+",
  "LOGIN",
  "SELECT",
  "FETCH",
  "UID",
  "STORE",
  "APPEND",
  "SEARCH",
  "IDLE",
  "DONE",
  "AUTHENTICATE",
  "1:*",
  "1,3:5",
  "BODY[]",
  "BODY.PEEK[HEADER.FIELDS (FROM TO)]",
  "BINARY[1]<0.10>",
  "(FLAGS)",
  "\\Seen",
  "NIL",
  "INBOX",
  "CHARSET",
  "UTF-8",
  "ENABLE",
  "CONDSTORE",
  "(UNCHANGEDSINCE 5)",
  "~{3}",
  "{5+}",
  "{0}",
  "{99999999999}",
);
const imapPiece = fc.oneof(
  imapAtom,
  fc.string({ maxLength: 12 }).map((s) => `"${s.replace(/"/g, '\\"')}"`),
  fc.string({ maxLength: 8 }).map((s) => `"${s}`),
  fc.uint8Array({ maxLength: 20 }).map((b) => `{${b.length}}\r\n${Buffer.from(b).toString("latin1")}`),
  fc.uint8Array({ maxLength: 20 }).map((b) => `{${b.length}+}\r\n${Buffer.from(b).toString("latin1")}`),
  fc.constantFrom("(", ")", "[", "]", "<", ">", "\\", "\r\n", "\n", "\r", " ", "\u0000", "\u00ff", "é"),
);
const imapLine = fc.array(imapPiece, { minLength: 1, maxLength: 14 }).map((p) => `${p.join(" ")}\r\n`);

const imapTarget: Target = {
  name: "imap",
  arbitrary: (seeds) =>
    withSeeds(
      seeds,
      fc.array(imapLine, { minLength: 1, maxLength: 6 }).map((l) => Buffer.from(l.join(""), "latin1")),
      mutated(
        fc.array(imapLine, { minLength: 1, maxLength: 3 }).map((l) => Buffer.from(l.join(""), "latin1")),
      ),
      fc.uint8Array({ maxLength: 400 }),
    ),
  run(input) {
    const parser = new CommandParser({ maxLine: 2048, maxLiteral: 1024, maxAppendLiteral: 4096 });
    let events = 0;
    const drain = () => {
      for (;;) {
        const ev = parser.next();
        if (!ev) return;
        if (++events > 10_000) throw new Error("parser produced more events than bytes allow");
        if (ev.type === "command") {
          try {
            // Re-tokenising the arguments' text is what the session does for nested structures.
            for (const a of ev.args)
              if (a.kind === "atom") parseSection(a.value.replace(/^[^[]*\[|\].*$/g, ""));
          } catch (err) {
            throw new Error(`section: ${(err as Error).message}`);
          }
        }
      }
    };
    for (const c of chunks(input)) {
      parser.push(c);
      drain();
    }
    // tokenize() reports syntax errors by throwing Error; anything else (TypeError, RangeError) is a bug.
    try {
      tokenize([{ text: Buffer.from(input).toString("latin1").split("\r\n")[0] ?? "" }]);
    } catch (err) {
      if ((err as Error).constructor !== Error) throw err;
    }
  },
};

// ---- MIME structure (BODYSTRUCTURE, ENVELOPE, sections) ----------------------------------------------

const headerLine = fc.oneof(
  fc.constantFrom(
    "Subject: =?UTF-8?B?aMOpbGxv?= =?ISO-8859-1?Q?w=F6rld?=",
    'From: "A, B" <a@b.example>, group: c@d.example, e@f.example;',
    "To: undisclosed-recipients:;",
    "Content-Transfer-Encoding: base64",
    "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt",
    'Content-Type: text/plain; charset="utf-8"; format=flowed',
    "Content-Type: message/rfc822",
    "Content-Type: multipart/digest; boundary=dd",
    "Content-Language: en, de",
    "Content-Location: http://x/y",
    "In-Reply-To: <a@b>",
    "Date: Mon, 23 Nov 2026 10:00:00 +0000",
    "X-Folded: a\r\n\tb\r\n c",
  ),
  fc
    .tuple(
      fc.constantFrom("Subject", "From", "To", "Cc", "Content-Type", "X-A"),
      fc.string({ maxLength: 40 }),
    )
    .map(([k, v]) => `${k}: ${v}`),
);

const entity: fc.Memo<string> = fc.memo((depth) => {
  const leaf = fc
    .tuple(fc.array(headerLine, { maxLength: 4 }), fc.string({ maxLength: 80 }))
    .map(([h, body]) => `${h.join("\r\n")}\r\n\r\n${body}`);
  if (depth <= 1) return leaf;
  const multipart = fc
    .tuple(
      fc.constantFrom("mixed", "alternative", "related", "digest", "signed"),
      fc.constantFrom("b1", "==_x", "b1 b2", '"q"', ""),
      fc.array(entity(depth - 1), { maxLength: 4 }),
      fc.boolean(),
      fc.string({ maxLength: 20 }),
    )
    .map(([sub, boundary, parts, closed, preamble]) => {
      const b = boundary.replace(/"/g, "");
      const body = parts.map((p) => `--${b}\r\n${p}\r\n`).join("");
      return `Content-Type: multipart/${sub}; boundary=${boundary}\r\n\r\n${preamble}\r\n${body}${closed ? `--${b}--\r\n` : ""}`;
    });
  const rfc822 = entity(depth - 1).map((inner) => `Content-Type: message/rfc822\r\n\r\n${inner}`);
  return fc.oneof({ depthSize: "small" }, leaf, multipart, rfc822);
});

const mimeTarget: Target = {
  name: "mime",
  arbitrary: (seeds) =>
    withSeeds(
      seeds,
      entity(5).map((s) => enc.encode(s)),
      mutated(entity(4).map((s) => enc.encode(s))),
      fc.uint8Array({ maxLength: 500 }),
    ),
  run(input) {
    const root = parseMime(input);
    encodeToString(bodyStructure(input, root, true));
    encodeToString(bodyStructure(input, root, false));
    encodeToString(envelope(parseHeaders(input.subarray(0, root.bodyStart))));
    for (const text of [
      "",
      "HEADER",
      "TEXT",
      "1",
      "1.MIME",
      "2.1",
      "1.1.TEXT",
      "HEADER.FIELDS (SUBJECT FROM)",
    ]) {
      const spec = parseSection(text);
      if (spec) extractSection(input, root, spec);
    }
  },
};

export const TARGETS: Target[] = [proxyTarget, imapTarget, mimeTarget];
