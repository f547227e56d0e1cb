/**
 * Regressions found by the reliability fuzzer (test/reliability/corpus/mime/): address headers that
 * once sent ENVELOPE's lexer into an endless loop, blocking the relay's event loop.
 */
import { describe, expect, it } from "vitest";
import { encodeToString } from "../../src/imap/encode.ts";
import { envelope, parseAddressList } from "../../src/imap/envelope.ts";
import { parseHeaders } from "../../src/imap/mime.ts";

describe("address lists with a stray closing parenthesis", () => {
  it("drops the parenthesis and keeps the address", () => {
    expect(parseAddressList("a@b.t)est")).toEqual([{ name: null, mailbox: "a", host: "b.test" }]);
    expect(parseAddressList(")")).toEqual([]);
    expect(parseAddressList('"A" <a@b.test>) , c@d.test')).toEqual([
      { name: "A", mailbox: "a", host: "b.test" },
      { name: null, mailbox: "c", host: "d.test" },
    ]);
  });

  it("builds the ENVELOPE of the fuzzer's input", () => {
    const headers = parseHeaders(new TextEncoder().encode("From: a@b.t)est\r\nTo:"));
    expect(encodeToString(envelope(headers))).toContain('((NIL NIL "a" "b.test"))');
  });
});
