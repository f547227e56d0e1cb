import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeV1, encodeV2 } from "../../../relay/proxy/encode.ts";
import { parseProxyHeader } from "../../../relay/proxy/parser.ts";
import type { ProxyHeader } from "../../../relay/proxy/types.ts";
import { emptyTlvs } from "../../../relay/proxy/types.ts";
import { cuts, v1Header, v2Header } from "./arbitraries.ts";
import { ascii, concat, hex, parseChunked, V2_SIG_HEX } from "./helpers.ts";

/** What decoding `encodeV2(input)` must give; `crc` is the value the decoder reports. */
function expectedV2(input: Omit<ProxyHeader, "version">, crc: number | null): ProxyHeader {
  if (input.command === "local") return { ...input, version: 2, tlvs: emptyTlvs() };
  return { ...input, version: 2, tlvs: { ...input.tlvs, crc32c: input.tlvs.crc32c === null ? null : crc } };
}

let inputsChecked = 0;

/**
 * Parses `bytes` whole and in chunks and checks the results agree: same outcome, the same header and
 * leftover, and a header whose bytes alone parse to the same header with nothing left over.
 */
function consistent(bytes: Uint8Array, cutPoints: readonly number[]): boolean {
  inputsChecked++;
  const whole = parseProxyHeader(bytes);
  const chunked = parseChunked(bytes, cutPoints);
  if (whole.state !== chunked.step.state) return false;
  if (whole.state === "error") return chunked.step.state === "error" && whole.reason === chunked.step.reason;
  if (whole.state === "need-more") return true;
  if (chunked.step.state !== "done") return false;
  if (!isDeepStrictEqual(whole.header, chunked.step.header) || !isDeepStrictEqual(whole.rest, chunked.rest)) {
    return false;
  }
  const headerLength = bytes.length - whole.rest.length;
  if (!isDeepStrictEqual(whole.rest, bytes.subarray(headerLength))) return false;
  const alone = parseProxyHeader(bytes.subarray(0, headerLength));
  return alone.state === "done" && alone.rest.length === 0 && isDeepStrictEqual(alone.header, whole.header);
}

const trailing = fc.uint8Array({ maxLength: 16 });

describe("round trips", () => {
  it("v2: decode(encode(h)) = h, in any chunking, leftover untouched", () => {
    fc.assert(
      fc.property(v2Header, trailing, cuts, (input, tail, cutPoints) => {
        const bytes = encodeV2(input);
        const { step, rest } = parseChunked(concat(bytes, tail), cutPoints);
        expect(step.state).toBe("done");
        if (step.state !== "done") return;
        expect(step.header).toEqual(expectedV2(input, step.header.tlvs.crc32c));
        expect(rest).toEqual(tail);
      }),
      { numRuns: 3000 },
    );
  });

  it("v1: decode(encode(h)) = h, in any chunking, leftover untouched", () => {
    fc.assert(
      fc.property(v1Header, trailing, cuts, (header, tail, cutPoints) => {
        const bytes = encodeV1(header);
        expect(bytes.length).toBeLessThanOrEqual(107);
        const { step, rest } = parseChunked(concat(bytes, tail), cutPoints);
        expect(step).toMatchObject({ state: "done", header });
        expect(rest).toEqual(tail);
      }),
      { numRuns: 3000 },
    );
  });
});

/** v1-like lines built from plausible and near-miss tokens, separators and line endings. */
const v1Protocol = fc.constantFrom("TCP4", "TCP4", "TCP6", "TCP6", "UNKNOWN", "tcp4", "UDP4", "");
const v1Address = fc.oneof(
  fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((octets) => octets.join(".")),
  fc.constantFrom("01.2.3.4", "1.2.3", "::", "::1", "::ffff:1.2.3.4", "1::2::3", "fe80::1%lo", "12345::"),
  fc
    .array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constant(-1)), { minLength: 1, maxLength: 9 })
    .map((ws) => ws.map((w) => (w < 0 ? "" : w.toString(16))).join(":")),
  fc.string({ unit: "binary-ascii", maxLength: 6 }),
);
const v1Port = fc.oneof(
  fc.nat(70_000).map(String),
  fc.constantFrom("025", "+1", "-1", "0", "65535", "65536", ""),
);
const v1Noise = fc
  .record({
    tokens: fc.tuple(v1Protocol, v1Address, v1Address, v1Port, v1Port),
    keep: fc.integer({ min: 0, max: 7 }),
    extra: v1Address,
    separator: fc.constantFrom(" ", " ", " ", " ", "  ", "\t"),
    ending: fc.constantFrom("\r\n", "\r\n", "\r\n", "\n", "\r", "", "\r\r\n"),
  })
  .map(({ tokens, keep, extra, separator, ending }) => {
    const line = keep > 5 ? [...tokens, extra] : tokens.slice(0, Math.max(keep, 1));
    return ascii(`PROXY ${line.join(separator)}${ending}`);
  });

const v2Noise = fc
  .record({
    verCmd: fc.constantFrom(0x20, 0x21, 0x21, 0x21, 0x11, 0x22, 0x31),
    fam: fc.constantFrom(0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32, 0x13, 0xff),
    length: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff })),
    body: fc.uint8Array({ maxLength: 320 }),
  })
  .map(({ verCmd, fam, length, body }) =>
    concat(hex(V2_SIG_HEX), Uint8Array.from([verCmd, fam, length >> 8, length & 0xff]), body),
  );

type Mutation = { kind: "set" | "insert" | "delete"; at: number; byte: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("set", "insert", "delete"),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function mutate(bytes: Uint8Array, mutations: readonly Mutation[], truncateTo: number | null): Uint8Array {
  const out = [...bytes];
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + (m.kind === "insert" ? 1 : 0));
    if (m.kind === "set" && out.length > 0) out[at] = m.byte;
    else if (m.kind === "insert") out.splice(at, 0, m.byte);
    else if (m.kind === "delete") out.splice(at, 1);
  }
  const result = Uint8Array.from(out);
  return truncateTo === null ? result : result.subarray(0, truncateTo % (result.length + 1));
}

const validHeaderBytes = fc.oneof(v1Header.map(encodeV1), v2Header.map(encodeV2));
const mutated = fc
  .record({
    base: validHeaderBytes,
    mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
    truncateTo: fc.option(fc.nat(), { nil: null }),
    tail: trailing,
  })
  .map(({ base, mutations, truncateTo, tail }) => concat(mutate(base, mutations, truncateTo), tail));

describe("robustness: no throw, no hang, chunking never changes the outcome", () => {
  let started = 0;
  beforeAll(() => {
    started = Date.now();
  });

  it.each([
    ["random bytes", fc.uint8Array({ maxLength: 64 }), 25_000],
    ["v1-like lines from near-miss tokens", v1Noise, 25_000],
    ["v2 signature + random fields and body", v2Noise, 25_000],
    ["mutated valid headers", mutated, 25_000],
  ] as const)("%s", (_name, input, numRuns) => {
    fc.assert(
      fc.property(input, cuts, (bytes, cutPoints) => consistent(bytes, cutPoints)),
      { numRuns },
    );
  });

  it("checked at least 100,000 inputs", () => {
    expect(inputsChecked).toBeGreaterThanOrEqual(100_000);
    // Informational: the whole fuzzing block's wall time.
    console.info(`proxy fuzz: ${inputsChecked} inputs in ${Date.now() - started} ms`);
  });
});
