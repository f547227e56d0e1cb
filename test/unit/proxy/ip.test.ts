import { isIPv4, isIPv6 } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatIPv6, normaliseAddress, parseIPv4, parseIPv6 } from "../../../src/net/ip.ts";
import { ipv6Bytes, ipv6Words, wordsToBytes } from "./arbitraries.ts";

/** A random textual spelling of the address given by `words`. */
const spelling = fc
  .record({
    words: ipv6Words,
    upper: fc.boolean(),
    pad: fc.boolean(),
    compress: fc.nat(),
    dotted: fc.boolean(),
  })
  .map(({ words, upper, pad, compress, dotted }) => {
    let groups = words.map((w) => w.toString(16).padStart(pad ? 4 : 1, "0"));
    if (upper) groups = groups.map((g) => g.toUpperCase());
    if (dotted) {
      groups = [
        ...groups.slice(0, 6),
        `${words[6]! >> 8}.${words[6]! & 0xff}.${words[7]! >> 8}.${words[7]! & 0xff}`,
      ];
    }
    // compress one run of zero groups (any run, not only the longest)
    const runs: [number, number][] = [];
    for (let i = 0; i < groups.length; i++) {
      if (!/^0+$/.test(groups[i]!)) continue;
      let j = i;
      while (j < groups.length && /^0+$/.test(groups[j]!)) j++;
      for (let a = i; a < j; a++) for (let b = a + 1; b <= j; b++) runs.push([a, b]);
      i = j;
    }
    let text = groups.join(":");
    if (runs.length > 0 && compress % 3 !== 0) {
      const [a, b] = runs[compress % runs.length]!;
      text = `${groups.slice(0, a).join(":")}::${groups.slice(b).join(":")}`;
    }
    return { text, bytes: wordsToBytes(words) };
  });

describe("IPv6 text", () => {
  it("parses every spelling of an address to its bytes", () => {
    fc.assert(
      fc.property(spelling, ({ text, bytes }) => {
        expect(parseIPv6(text)).toEqual(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it("formats canonically (RFC 5952, as WHATWG URL does) and round-trips", () => {
    fc.assert(
      fc.property(ipv6Bytes, (bytes) => {
        const text = formatIPv6(bytes);
        if (text.includes(".")) {
          expect(text).toBe(`${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`);
          return;
        }
        expect(text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
        expect(parseIPv6(text)).toEqual(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it("accepts exactly what node:net isIPv6 accepts (zone ids aside)", () => {
    const alphabet = fc.constantFrom(
      ..."0123456789abcdefABCDEF:.",
      "::",
      "ffff",
      "1.2.3.4",
      "255.255.255.255",
    );
    const candidate = fc.oneof(
      fc.array(alphabet, { maxLength: 16 }).map((parts) => parts.join("")),
      spelling.map((s) => s.text),
    );
    fc.assert(
      fc.property(candidate, (text) => {
        expect(parseIPv6(text) !== null).toBe(isIPv6(text));
      }),
      { numRuns: 10_000 },
    );
  });

  it.each([
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"],
    ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:7f00:1", "127.0.0.1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["::1.2.3.4", "::102:304"],
  ])("normalises %s to %s", (text, canonical) => {
    expect(normaliseAddress(text)).toBe(canonical);
  });

  it.each([
    "",
    ":",
    ":::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1::2::3",
    ":1::2",
    "1::2:",
    "12345::",
    "g::",
    "::1.2.3",
    "::1.2.3.256",
    "::01.2.3.4",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "fe80::1%eth0",
    " ::1",
  ])("rejects %j", (text) => {
    expect(parseIPv6(text)).toBeNull();
  });
});

describe("IPv4 text", () => {
  it("accepts exactly what node:net isIPv4 accepts", () => {
    const candidate = fc.oneof(
      fc
        .array(fc.constantFrom(..."0123456789.", "25", "255", "256", "00"), { maxLength: 10 })
        .map((p) => p.join("")),
      fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((o) => o.join(".")),
    );
    fc.assert(
      fc.property(candidate, (text) => {
        expect(parseIPv4(text) !== null).toBe(isIPv4(text));
      }),
      { numRuns: 10_000 },
    );
  });

  it.each([
    "01.2.3.4",
    "1.2.3.04",
    "1.2.3.256",
    "1.2.3",
    "1.2.3.4.5",
    "1..3.4",
    "+1.2.3.4",
    "0x1.2.3.4",
    "1.2.3.4 ",
  ])("rejects %j", (text) => {
    expect(parseIPv4(text)).toBeNull();
  });

  it("accepts 0.0.0.0 and 255.255.255.255", () => {
    expect(parseIPv4("0.0.0.0")).toEqual(new Uint8Array(4));
    expect(parseIPv4("255.255.255.255")).toEqual(new Uint8Array(4).fill(255));
  });
});
