/** The parser's count of bytes thrown away for a refused command, which the session caps (BYE). */
import { describe, expect, it } from "vitest";
import { CommandParser } from "../../src/imap/parser.ts";

const enc = new TextEncoder();

function drain(p: CommandParser) {
  const out = [];
  for (let ev = p.next(); ev; ev = p.next()) out.push(ev);
  return out;
}

describe("discarded bytes of refused commands", () => {
  it("counts an overlong line until it ends, then answers BAD and starts over", () => {
    const p = new CommandParser({ maxLine: 100 });
    p.push(enc.encode(`a1 NOOP ${"x".repeat(5000)}`));
    expect(drain(p)).toEqual([]);
    expect(p.discarded).toBeGreaterThan(4000);
    p.push(enc.encode("yyy\r\na2 NOOP\r\n"));
    const evs = drain(p);
    expect(evs[0]).toMatchObject({ type: "error", tag: "a1", code: "BAD", text: "Command line too long" });
    expect(evs[1]).toMatchObject({ type: "command", tag: "a2", name: "NOOP" });
    expect(p.discarded).toBe(0);
  });

  it("counts a refused LITERAL+ as it is skipped", () => {
    const p = new CommandParser({ maxLiteral: 10 });
    p.push(enc.encode("a1 LOGIN {999999+}\r\n"));
    drain(p);
    p.push(new Uint8Array(300_000));
    expect(drain(p)).toEqual([]);
    expect(p.discarded).toBe(300_000);
    p.reset();
    expect(p.discarded).toBe(0);
  });
});
