import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CidrError, cidrContains, matchesAnyCidr, parseCidr, parseCidrList } from "../../../src/net/cidr.ts";
import { formatIPv4, formatIPv6 } from "../../../src/net/ip.ts";
import { ipv6Words, wordsToBytes } from "./arbitraries.ts";

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** Reference: equal top `prefix` bits. */
function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const shift = BigInt(a.length * 8 - prefix);
  return toBigInt(a) >> shift === toBigInt(b) >> shift;
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", 4, "10.0.0.0/8"],
    ["127.0.0.1", 4, "127.0.0.1/32"],
    ["0.0.0.0/0", 4, "0.0.0.0/0"],
    [" 192.168.1.0/24 ", 4, "192.168.1.0/24"],
    ["2001:DB8::/32", 6, "2001:db8::/32"],
    ["::1", 6, "::1/128"],
    ["::/0", 6, "::/0"],
    ["::ffff:10.0.0.0/104", 4, "10.0.0.0/8"],
    ["::ffff:127.0.0.1", 4, "127.0.0.1/32"],
  ])("%j → IPv%i %s", (input, family, text) => {
    expect(parseCidr(input)).toMatchObject({ family, text });
  });

  it.each([
    ["", /not an IPv4 or IPv6 address/],
    ["10.0.0.0/", /decimal/],
    ["10.0.0.0/33", /0-32 for IPv4/],
    ["::/129", /0-128 for IPv6/],
    ["10.0.0.0/08", /decimal/],
    ["10.0.0.0/-1", /decimal/],
    ["10.0.0.0/8/8", /decimal/],
    ["10.0.0.1/8", /host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/],
    ["2001:db8::1/32", /did you mean 2001:db8::\/32/],
    ["010.0.0.0/8", /not an IPv4 or IPv6 address/],
    ["fe80::1%eth0/64", /zone ids/],
    ["localhost", /not an IPv4 or IPv6 address/],
    ["10.0.0.0 /8", /not an IPv4 or IPv6 address/],
  ])("rejects %j with a clear message", (input, message) => {
    expect(() => parseCidr(input)).toThrow(CidrError);
    expect(() => parseCidr(input)).toThrow(message);
    expect(() => parseCidr(input)).toThrow(`invalid CIDR "${input}"`);
  });

  it("names the offending entry of a list", () => {
    expect(() => parseCidrList(["10.0.0.0/8", "bogus"])).toThrow(/^trusted\[1\]: invalid CIDR "bogus"/);
    expect(parseCidrList([])).toEqual([]);
  });
});

describe("matching", () => {
  const list = parseCidrList(["127.0.0.0/8", "10.1.0.0/16", "2001:db8::/32", "::1"]);

  it.each([
    ["127.0.0.1", true],
    ["127.255.255.255", true],
    ["128.0.0.0", false],
    ["10.1.255.1", true],
    ["10.2.0.1", false],
    ["::ffff:127.0.0.1", true],
    ["::FFFF:10.1.2.3", true],
    ["::ffff:10.2.0.1", false],
    ["2001:db8:ffff::1", true],
    ["2001:db9::1", false],
    ["::1", true],
    ["::2", false],
    ["::127.0.0.1", false],
    ["not-an-ip", false],
    ["", false],
  ])("%s → %s", (address, expected) => {
    expect(matchesAnyCidr(list, address)).toBe(expected);
  });

  it("::/0 matches IPv6 peers only; 0.0.0.0/0 matches IPv4 and IPv4-mapped peers", () => {
    const any6 = parseCidr("::/0");
    const any4 = parseCidr("0.0.0.0/0");
    expect(cidrContains(any6, "2001:db8::1")).toBe(true);
    expect(cidrContains(any6, "1.2.3.4")).toBe(false);
    expect(cidrContains(any4, "::ffff:1.2.3.4")).toBe(true);
    expect(cidrContains(any4, "::1")).toBe(false);
  });

  it("agrees with a BigInt reference for IPv4", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 32 }),
        fc.boolean(),
        (net, address, prefix, mapped) => {
          const cidr = parseCidr(`${formatIPv4(maskBytes(net, prefix))}/${prefix}`);
          const text = mapped ? `::ffff:${formatIPv4(address)}` : formatIPv4(address);
          expect(cidrContains(cidr, text)).toBe(samePrefix(net, address, prefix));
          expect(cidrContains(cidr, formatIPv4(net))).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("agrees with a BigInt reference for IPv6", () => {
    fc.assert(
      fc.property(ipv6Words, ipv6Words, fc.integer({ min: 0, max: 95 }), (netWords, addressWords, prefix) => {
        const net = wordsToBytes(netWords);
        const address = wordsToBytes(addressWords);
        const cidr = parseCidr(`${formatIPv6(maskBytes(net, prefix))}/${prefix}`);
        const text = formatIPv6(address);
        // IPv4-mapped peers are matched as IPv4, never against IPv6 CIDRs below /96
        const expected = !text.includes(".") && samePrefix(net, address, prefix);
        expect(cidrContains(cidr, text)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
