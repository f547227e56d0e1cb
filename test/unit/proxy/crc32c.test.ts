import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32c } from "../../../relay/proxy/crc32c.ts";
import { ascii, concat } from "./helpers.ts";

describe("crc32c", () => {
  it("known answer: 123456789 → 0xE3069283", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
  });

  it("known answers from RFC 3720 (iSCSI) B.4", () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("continues across pieces", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        expect(crc32c(b, crc32c(a))).toBe(crc32c(concat(a, b)));
      }),
    );
  });
});
