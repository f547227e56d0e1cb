import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CommandParser, type ParserEvent, type Token } from "../../src/imap/parser.ts";

const enc = new TextEncoder();

function feed(p: CommandParser, text: string | Uint8Array, byteAtATime = false): ParserEvent[] {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  const out: ParserEvent[] = [];
  const drain = () => {
    for (let ev = p.next(); ev; ev = p.next()) out.push(ev);
  };
  if (byteAtATime) {
    for (let i = 0; i < bytes.length; i++) {
      p.push(bytes.subarray(i, i + 1));
      drain();
    }
  } else {
    p.push(bytes);
    drain();
  }
  return out;
}

const atom = (value: string): Token => ({ kind: "atom", value });
const str = (value: string): Token => ({ kind: "string", value });

describe("IMAP command parser", () => {
  it("reads atoms, quoted strings, lists and bracketed fetch items", () => {
    const evs = feed(
      new CommandParser(),
      'a1 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100>) "x \\"y\\" \\\\"\r\n',
    );
    expect(evs).toEqual([
      {
        type: "command",
        tag: "a1",
        name: "UID",
        args: [
          atom("FETCH"),
          atom("1:*"),
          { kind: "list", items: [atom("FLAGS"), atom("BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.100>")] },
          str('x "y" \\'),
        ],
      },
    ]);
  });

  it("asks for a synchronising literal and reads it, also byte by byte", () => {
    for (const slow of [false, true]) {
      const evs = feed(new CommandParser(), "t LOGIN {4}\r\nuser {3+}\r\np\r\n\r\n", slow);
      expect(evs[0]).toEqual({ type: "continue", size: 4 });
      expect(evs[1]).toEqual({
        type: "command",
        tag: "t",
        name: "LOGIN",
        args: [
          { kind: "literal", value: enc.encode("user") },
          { kind: "literal", value: enc.encode("p\r\n") },
        ],
      });
      expect(evs).toHaveLength(2);
    }
  });

  it("reads several pipelined commands from one chunk, one at a time", () => {
    const p = new CommandParser();
    p.push(enc.encode("a NOOP\r\nb CAPABILITY\r\n"));
    expect(p.next()).toMatchObject({ tag: "a", name: "NOOP" });
    expect(p.next()).toMatchObject({ tag: "b", name: "CAPABILITY" });
    expect(p.next()).toBeNull();
  });

  it("refuses a synchronising literal above the cap without reading it", () => {
    const p = new CommandParser({ maxLiteral: 100 });
    const evs = feed(p, "x LOGIN {1000000000}\r\ny NOOP\r\n");
    expect(evs).toEqual([
      { type: "error", tag: "x", code: "BAD", text: "Literal too large" },
      { type: "command", tag: "y", name: "NOOP", args: [] },
    ]);
  });

  it("skips an oversized non-synchronising literal without allocating it", () => {
    const p = new CommandParser({ maxLiteral: 10 });
    const big = "z".repeat(50);
    const evs = feed(p, `x LOGIN {50+}\r\n${big} pass\r\ny NOOP\r\n`, true);
    expect(evs).toEqual([
      { type: "error", tag: "x", code: "BAD", text: "Literal too large" },
      { type: "command", tag: "y", name: "NOOP", args: [] },
    ]);
    expect(p.buffered).toBe(0);
  });

  it("answers an APPEND above the message cap with NO [TOOBIG]", () => {
    const p = new CommandParser({ maxAppendLiteral: 1000 });
    expect(feed(p, "a APPEND INBOX {5000}\r\n")).toEqual([
      { type: "error", tag: "a", code: "NO", text: "[TOOBIG] Message too large" },
    ]);
    const ok = feed(
      new CommandParser({ maxAppendLiteral: 1000 }),
      "a APPEND INBOX (\\Seen) {5}\r\nhello\r\n",
    );
    expect(ok[1]).toMatchObject({
      name: "APPEND",
      args: [atom("INBOX"), { kind: "list" }, { kind: "literal" }],
    });
  });

  it("caps a command line at 64 KiB and recovers at the next line", () => {
    const p = new CommandParser();
    const evs = feed(p, `a1 NOOP ${"x".repeat(70 * 1024)}\r\nb NOOP\r\n`);
    expect(evs).toEqual([
      { type: "error", tag: "a1", code: "BAD", text: "Command line too long" },
      { type: "command", tag: "b", name: "NOOP", args: [] },
    ]);
    const slow = new CommandParser({ maxLine: 200 });
    expect(feed(slow, `a2 NOOP ${"y".repeat(500)}\r\nc NOOP\r\n`, true).map((e) => e.type)).toEqual([
      "error",
      "command",
    ]);
  });

  it("returns raw lines in line mode (IDLE's DONE, AUTHENTICATE responses)", () => {
    const p = new CommandParser();
    p.lineMode = true;
    p.push(enc.encode("DONE\r\na NOOP\r\n"));
    expect(p.next()).toEqual({ type: "line", text: "DONE" });
    p.lineMode = false;
    expect(p.next()).toMatchObject({ type: "command", name: "NOOP" });
  });

  it("drops pipelined bytes on reset (STARTTLS)", () => {
    const p = new CommandParser();
    p.push(enc.encode("a STARTTLS\r\nb LOGIN x y\r\n"));
    expect(p.next()).toMatchObject({ name: "STARTTLS" });
    p.reset();
    expect(p.next()).toBeNull();
  });

  it("reports syntax errors with the tag", () => {
    expect(feed(new CommandParser(), 'a LOGIN "unterminated\r\n')).toEqual([
      { type: "error", tag: "a", code: "BAD", text: "Unterminated quoted string" },
    ]);
    expect(feed(new CommandParser(), "a FETCH 1 (FLAGS\r\n")[0]).toMatchObject({ type: "error", tag: "a" });
    expect(feed(new CommandParser(), "\r\n")[0]).toMatchObject({ type: "error", tag: "*" });
  });

  it("never throws or hangs on random input, and splitting never changes the result", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (bytes, step) => {
        const whole = feed(new CommandParser({ maxLine: 128, maxLiteral: 64 }), bytes);
        const p = new CommandParser({ maxLine: 128, maxLiteral: 64 });
        const parts: ParserEvent[] = [];
        for (let i = 0; i < bytes.length; i += step) {
          p.push(bytes.subarray(i, i + step));
          for (let ev = p.next(); ev; ev = p.next()) parts.push(ev);
        }
        expect(parts).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
