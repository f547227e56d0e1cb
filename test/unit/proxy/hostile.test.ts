import { describe, expect, it } from "vitest";
import { encodeV2 } from "../../../relay/proxy/encode.ts";
import { ProxyHeaderParser, parseProxyHeader } from "../../../relay/proxy/parser.ts";
import { emptyTlvs } from "../../../relay/proxy/types.ts";
import { ascii, concat, hex, parseByteAtATime, V2_SIG_HEX } from "./helpers.ts";

const TCP4_ADDR = "7f000001 7f000002 3039 0019";

/** A v2 PROXY TCP4 header around the given TLV bytes (hex). */
function v2Tcp4WithTlvs(tlvHex: string): Uint8Array {
  const tlvBytes = hex(tlvHex);
  const len = 12 + tlvBytes.length;
  return concat(hex(`${V2_SIG_HEX} 21 11 ${len.toString(16).padStart(4, "0")} ${TCP4_ADDR}`), tlvBytes);
}

function expectError(bytes: Uint8Array, reason?: RegExp, maxHeaderBytes?: number): void {
  const options = maxHeaderBytes === undefined ? {} : { maxHeaderBytes };
  const whole = parseProxyHeader(concat(bytes, ascii("EHLO x\r\n")), options);
  expect(whole.state).toBe("error");
  if (reason !== undefined && whole.state === "error") expect(whole.reason).toMatch(reason);
  const { step } = parseByteAtATime(concat(bytes, ascii("EHLO x\r\n")), maxHeaderBytes);
  expect(step).toEqual(whole);
}

describe("hostile v1 input", () => {
  it.each([
    ["a line over 107 bytes", `PROXY UNKNOWN ${"a".repeat(92)}\r\n`, /longer than 107/],
    ["a TCP4 line over 107 bytes", `PROXY TCP4 1.2.3.4 1.2.3.4 1 ${"1".repeat(80)}\r\n`, /longer than 107/],
    ["a bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", /bare LF/],
    ["a bare CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", /bare CR/],
    ["a CR inside the line", "PROXY UNKNOWN a\rb\r\n", /bare CR/],
    ["double spaces", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", /single spaces/],
    ["a double space after PROXY", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", /protocol/],
    ["a trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", /single spaces/],
    ["a missing port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", /single spaces/],
    ["TCP4 carrying an IPv6 address", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", /IPv4/],
    ["TCP6 carrying an IPv4 address", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", /non-IPv6/],
    ["an octet with a leading zero", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", /IPv4/],
    ["an octet over 255", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", /IPv4/],
    ["three octets", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", /IPv4/],
    ["port 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", /port/],
    ["a port with a leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 025 2\r\n", /port/],
    ["a signed port", "PROXY TCP4 1.2.3.4 5.6.7.8 +25 2\r\n", /port/],
    ["two :: in an IPv6 address", "PROXY TCP6 1::2::3 ::1 1 2\r\n", /IPv6/],
    ["an IPv6 group of 5 digits", "PROXY TCP6 12345::1 ::1 1 2\r\n", /IPv6/],
    ["an IPv6 zone id", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", /IPv6/],
    ["nine IPv6 groups", "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", /IPv6/],
    ["a misplaced embedded IPv4", "PROXY TCP6 1.2.3.4::1 ::1 1 2\r\n", /IPv6/],
    ["an embedded IPv4 with a leading zero", "PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n", /IPv6/],
    ["lowercase proxy", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", /not a PROXY/],
    ["lowercase tcp4", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", /protocol/],
    ["UNKNOWN glued to text", "PROXY UNKNOWNX\r\n", /protocol/],
    ["an unknown protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", /protocol/],
    ["an empty line", "PROXY \r\n", /protocol/],
    ["a tab separator", "PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", /protocol|control/],
    ["a NUL byte", "PROXY UNKNOWN \u0000\r\n", /control/],
    ["a non-ASCII byte", "PROXY UNKNOWN \u00e9\r\n", /non-ASCII/],
  ])("rejects %s", (_name, line, reason) => {
    expectError(ascii(line), reason);
  });

  it("decides at the first byte that cannot start a signature", () => {
    for (const first of ["E", "p", "\n", "\u0016", "\u0000"]) {
      expect(parseProxyHeader(ascii(first))).toMatchObject({ state: "error" });
    }
    expect(parseProxyHeader(ascii("PROXZ")).state).toBe("error");
    expect(parseProxyHeader(ascii("PROXY X")).state).toBe("error");
    expect(parseProxyHeader(ascii("PROXY TCP4")).state).toBe("need-more");
  });

  it("errors at byte 107, not later, on an endless line", () => {
    const { step, consumed } = parseByteAtATime(ascii(`PROXY UNKNOWN ${"x".repeat(500)}`));
    expect(step.state).toBe("error");
    expect(consumed).toBe(107);
  });
});

describe("hostile v2 input", () => {
  it.each([
    ["version nibble 1", `${V2_SIG_HEX} 11 11 000c ${TCP4_ADDR}`, /version/],
    ["version nibble 3", `${V2_SIG_HEX} 31 11 000c ${TCP4_ADDR}`, /version/],
    ["command 0x22", `${V2_SIG_HEX} 22 11 000c ${TCP4_ADDR}`, /command/],
    ["command 0x2f", `${V2_SIG_HEX} 2f 11 000c ${TCP4_ADDR}`, /command/],
    ["family byte 0x13", `${V2_SIG_HEX} 21 13 000c ${TCP4_ADDR}`, /family/],
    ["family byte 0x01", `${V2_SIG_HEX} 21 01 0000`, /family/],
    ["family byte 0x13 on LOCAL", `${V2_SIG_HEX} 20 13 0000`, /family/],
    ["len shorter than the IPv4 block", `${V2_SIG_HEX} 21 11 000b 7f000001 7f000002 3039 00`, /shorter/],
    ["len shorter than the IPv6 block", `${V2_SIG_HEX} 21 21 000c ${TCP4_ADDR}`, /shorter/],
    ["len shorter than the UNIX block", `${V2_SIG_HEX} 21 31 00d7 ${"00".repeat(215)}`, /shorter/],
    ["a broken signature", "0d0a0d0a000d0a515549540b 21 11 000c", /signature/],
  ])("rejects %s", (_name, text, reason) => {
    expectError(hex(text), reason);
  });

  it.each([
    ["a TLV overrunning the header", "02 0005 61626364", /overruns/],
    ["a truncated TLV header", "02 00", /truncated/],
    ["an SSL TLV shorter than 5 bytes", "20 0004 01000000", /shorter than 5/],
    ["an SSL sub-TLV overrunning the SSL TLV", "20 0008 01 00000000 21 0005 41", /overruns/],
    ["a CRC32C TLV of length 3", "03 0003 000000", /CRC32C TLV length/],
    ["a CRC32C TLV of length 5", "03 0005 0000000000", /CRC32C TLV length/],
    ["a wrong CRC32C", "03 0004 00000000", /CRC32C mismatch/],
    ["a non-UTF-8 AUTHORITY", "02 0002 c328", /UTF-8/],
    ["an AUTHORITY with a lone surrogate", "02 0003 eda080", /UTF-8/],
    ["a non-UTF-8 ALPN", "01 0001 ff", /UTF-8/],
    ["a non-UTF-8 NETNS", "30 0001 80", /UTF-8/],
    ["a non-UTF-8 SSL CN", "20 0009 03 00000000 22 0001 fe", /UTF-8/],
    ["a UNIQUE_ID over 128 bytes", `05 0081 ${"ab".repeat(129)}`, /128/],
    ["a duplicate AUTHORITY", "02 0001 61 02 0001 62", /duplicate/],
    ["a duplicate SSL VERSION sub-TLV", "20 000d 01 00000000 21 0001 31 21 0001 32", /duplicate/],
  ])("rejects %s", (_name, tlvHex, reason) => {
    expectError(v2Tcp4WithTlvs(tlvHex), reason);
  });

  it("accepts a UNIQUE_ID of exactly 128 bytes and an SSL TLV of exactly 5 bytes", () => {
    const step = parseProxyHeader(v2Tcp4WithTlvs(`05 0080 ${"ab".repeat(128)} 20 0005 00 00000001`));
    expect(step.state).toBe("done");
    if (step.state === "done") {
      expect(step.header.tlvs.uniqueId).toBe("ab".repeat(128));
      expect(step.header.tlvs.ssl).toMatchObject({ client: 0, verify: 1, version: null });
    }
  });

  it("accepts a correct CRC32C and catches every single-bit flip", () => {
    const good = encodeV2({
      command: "proxy",
      family: "tcp4",
      source: { address: "127.0.0.1", port: 12345 },
      destination: { address: "127.0.0.2", port: 25 },
      tlvs: { ...emptyTlvs(), authority: "mx.example", crc32c: 0 },
    });
    expect(parseProxyHeader(good).state).toBe("done");
    // Flip any single bit: the signature, field or CRC checks catch it (a longer length just needs more).
    // Two flips are inherently undetectable: PROXY→LOCAL (the payload is then skipped unread), and
    // retyping the CRC TLV itself into an unknown TLV (which removes the check).
    const crcType = good.length - 7;
    for (let i = 0; i < good.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        if ((i === 12 && bit === 0) || (i === crcType && bit >= 2)) continue;
        const bad = good.slice();
        bad[i]! ^= 1 << bit;
        expect(parseProxyHeader(bad).state).not.toBe("done");
      }
    }
  });

  it("rejects a header larger than maxHeaderBytes as soon as the length is known", () => {
    const fixed = hex(`${V2_SIG_HEX} 21 11 1000`); // 16 + 4096
    const { step, consumed } = parseByteAtATime(concat(fixed, new Uint8Array(5000)));
    expect(step).toMatchObject({
      state: "error",
      reason: expect.stringMatching(/exceeds the 4096-byte limit/),
    });
    expect(consumed).toBe(16);
    // exactly at the cap is fine
    const atCap = concat(hex(`${V2_SIG_HEX} 21 11 0010`), hex(TCP4_ADDR), hex("04 0001 00"));
    expect(parseProxyHeader(atCap, { maxHeaderBytes: 32 }).state).toBe("done");
    expect(parseProxyHeader(atCap, { maxHeaderBytes: 31 }).state).toBe("error");
    expectError(atCap, /exceeds/, 31);
  });

  it("rejects an invalid maxHeaderBytes option", () => {
    expect(() => new ProxyHeaderParser({ maxHeaderBytes: 15 })).toThrow(RangeError);
    expect(() => new ProxyHeaderParser({ maxHeaderBytes: 1.5 })).toThrow(RangeError);
  });
});

describe("after a final step", () => {
  it("keeps reporting the error, and refuses more input once done", () => {
    const parser = new ProxyHeaderParser();
    const error = parser.push(ascii("X"));
    expect(parser.push(ascii("PROXY UNKNOWN\r\n"))).toEqual(error);
    const other = new ProxyHeaderParser();
    expect(other.push(ascii("PROXY UNKNOWN\r\n")).state).toBe("done");
    expect(other.push(ascii("EHLO"))).toMatchObject({ state: "error" });
  });
});
