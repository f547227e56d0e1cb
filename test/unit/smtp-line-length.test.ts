import { describe, expect, it } from "vitest";
import { LineLengthLimit } from "../../relay/smtp/line-length.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("DATA line length limit", () => {
  it("counts CRLF in the line and allows exactly the limit", () => {
    const ok = new LineLengthLimit(10);
    expect(ok.check(bytes("12345678\r\n12345678\r\n"))).toBe(true);
    const over = new LineLengthLimit(10);
    expect(over.check(bytes("123456789\r\n"))).toBe(false);
    expect(over.exceeded).toBe(true);
  });

  it("follows a line across chunk boundaries, and resets at each LF", () => {
    const l = new LineLengthLimit(10);
    expect(l.check(bytes("1234"))).toBe(true);
    expect(l.check(bytes("5678\r"))).toBe(true);
    expect(l.check(bytes("\n123456"))).toBe(true);
    expect(l.check(bytes("78\r\n"))).toBe(true);
    expect(l.check(bytes("12345"))).toBe(true);
    expect(l.check(bytes("678901"))).toBe(false);
    expect(l.check(bytes("\r\n"))).toBe(false); // stays refused
  });
});
