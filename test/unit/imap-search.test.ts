import { describe, expect, it } from "vitest";
import { formatDateTime, parseDateTime } from "../../src/imap/dates.ts";
import { decodeMutf7, encodeMutf7 } from "../../src/imap/mutf7.ts";
import { CommandParser, type Token } from "../../src/imap/parser.ts";
import { decodeWords, matches, needsRaw, parseSearch, RawView } from "../../src/imap/search.ts";
import { expandSet, formatSet, parseSequenceSet, selectUids } from "../../src/imap/sequence.ts";

function tokens(criteria: string): Token[] {
  const p = new CommandParser();
  p.push(new TextEncoder().encode(`a SEARCH ${criteria}\r\n`));
  const ev = p.next();
  if (ev?.type !== "command") throw new Error("parse failed");
  return ev.args;
}

const raw = new RawView(
  new TextEncoder().encode(
    "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= hello\r\n" +
      "Date: Tue, 2 Jan 2024 23:30:00 -0500\r\nX-Tag: blue\r\n\r\nThe body text.\r\n",
  ),
);
const msg = {
  seq: 2,
  uid: 20,
  flags: ["\\Seen", "$Work"],
  internalDate: Date.UTC(2024, 0, 3, 5),
  size: 500,
  modseq: 7,
};
const ctx = { maxSeq: 3, maxUid: 30 };
const test = (criteria: string) => matches(parseSearch(tokens(criteria)), msg, ctx, raw);

describe("SEARCH", () => {
  it("searches decoded text parts: quoted-printable, base64, charsets, attached messages", async () => {
    const m = new RawView(
      new TextEncoder().encode(
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' +
          "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
          "caf=E9 cr=\r\n=E8me\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
          `${btoa("<p>hidden treasure</p>")}\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nnested words\r\n` +
          "--b\r\nContent-Type: application/octet-stream\r\n\r\nbinaryneedle\r\n--b--\r\n",
      ),
    );
    const t = (c: string) => matches(parseSearch(tokens(c)), msg, ctx, m);
    expect(await t('BODY "café crème"')).toBe(true);
    expect(await t('BODY "hidden treasure"')).toBe(true);
    expect(await t('TEXT "nested words"')).toBe(true);
    expect(await t("BODY binaryneedle")).toBe(false);
    expect(await t("BODY caf=E9")).toBe(false);
  });

  it("evaluates flag, size, set, date and header keys", async () => {
    expect(await test("ALL")).toBe(true);
    expect(await test("SEEN KEYWORD $Work")).toBe(true);
    expect(await test("UNSEEN")).toBe(false);
    expect(await test("NOT FLAGGED")).toBe(true);
    expect(await test("LARGER 499 SMALLER 501")).toBe(true);
    expect(await test("2")).toBe(true);
    expect(await test("3:*")).toBe(false);
    expect(await test("UID 15:25")).toBe(true);
    expect(await test("UID *")).toBe(false);
    expect(await test("ON 3-Jan-2024")).toBe(true);
    expect(await test("BEFORE 3-Jan-2024")).toBe(false);
    expect(await test("SINCE 1-Jan-2024")).toBe(true);
    expect(await test("SENTON 2-Jan-2024")).toBe(true);
    expect(await test("SENTBEFORE 2-Jan-2024")).toBe(false);
    expect(await test('FROM "alice"')).toBe(true);
    expect(await test("TO carol")).toBe(false);
    expect(await test('SUBJECT "grüße"')).toBe(true);
    expect(await test('HEADER X-Tag "BLUE"')).toBe(true);
    expect(await test('HEADER X-Missing ""')).toBe(false);
    expect(await test('BODY "body text"')).toBe(true);
    expect(await test("TEXT alice")).toBe(true);
    expect(await test("OR FLAGGED (SEEN LARGER 100)")).toBe(true);
    expect(await test("OR FLAGGED NOT SEEN")).toBe(false);
    expect(await test("MODSEQ 7")).toBe(true);
    expect(await test('MODSEQ "/flags/\\\\Seen" all 8')).toBe(false);
  });

  it("knows which keys need the message", () => {
    expect(needsRaw(parseSearch(tokens("SEEN UID 1:5")))).toBe(false);
    expect(needsRaw(parseSearch(tokens("OR SEEN SUBJECT x")))).toBe(true);
    expect(() => parseSearch(tokens("FROBNICATE"))).toThrow(/Unknown/);
    expect(() => parseSearch(tokens("SINCE yesterday"))).toThrow(/date/);
  });

  it("decodes encoded words", () => {
    expect(decodeWords("=?ISO-8859-1?Q?Caf=E9?= =?utf-8?b?w6k=?=")).toBe("Caféé");
  });
});

describe("sequence sets, dates and mailbox names", () => {
  it("parses, formats and selects", () => {
    expect(parseSequenceSet("1:3,5,7:*", 9)).toEqual([
      [1, 3],
      [5, 5],
      [7, 9],
    ]);
    expect(parseSequenceSet("4:2", 9)).toEqual([[2, 4]]);
    expect(parseSequenceSet("0", 9)).toBeNull();
    expect(parseSequenceSet("1,,2", 9)).toBeNull();
    expect(formatSet([5, 1, 2, 3, 9, 10])).toBe("1:3,5,9:10");
    expect(expandSet("1:3,7")).toEqual([1, 2, 3, 7]);
    expect(selectUids([1, 4, 9, 12], [[3, 10]])).toEqual([4, 9]);
  });

  it("formats INTERNALDATE and parses APPEND dates", () => {
    expect(formatDateTime(Date.UTC(2024, 1, 1, 9, 5, 7))).toBe(" 1-Feb-2024 09:05:07 +0000");
    expect(parseDateTime("01-Feb-2024 10:00:00 +0100")).toBe(Date.UTC(2024, 1, 1, 9));
    expect(parseDateTime(" 1-Feb-2024 10:00:00 -0030")).toBe(Date.UTC(2024, 1, 1, 10, 30));
    expect(parseDateTime("1-Foo-2024 10:00:00 +0000")).toBeNull();
  });

  it("round-trips modified UTF-7", () => {
    expect(encodeMutf7("Entwürfe")).toBe("Entw&APw-rfe");
    expect(encodeMutf7("a&b")).toBe("a&-b");
    expect(encodeMutf7("日本語")).toBe("&ZeVnLIqe-");
    for (const s of ["Entwürfe", "a&b", "日本語", "plain", "~peter/mail/台北/日本語"]) {
      expect(decodeMutf7(encodeMutf7(s))).toBe(s);
    }
  });
});
