import { describe, expect, it } from "vitest";
import { bodyStructure } from "../../src/imap/bodystructure.ts";
import { encodeToString } from "../../src/imap/encode.ts";
import { envelope, parseAddressList } from "../../src/imap/envelope.ts";
import { parseMime } from "../../src/imap/mime.ts";
import { extractSection, parseSection, partial } from "../../src/imap/section.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const MSG = enc.encode(
  [
    'From: "Doe, Jane" <jane@example.test>, bob@example.test',
    "To: undisclosed-recipients:;",
    "Cc: Team: a@x.test, B <b@y.test>;",
    "Subject: =?utf-8?q?caf=C3=A9?=",
    "Date: Mon, 1 Jan 2024 10:00:00 +0100",
    "Message-ID: <m1@example.test>",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "preamble",
    "--b1",
    'Content-Type: text/plain; charset="utf-8"',
    "",
    "line one",
    "line two",
    "--b1",
    "Content-Type: message/rfc822",
    "Content-Disposition: inline",
    "",
    "Subject: inner",
    "",
    "inner body",
    "--b1--",
    "epilogue",
  ].join("\r\n"),
);

const section = (text: string) => {
  const spec = parseSection(text);
  if (!spec) throw new Error(`bad section ${text}`);
  const out = extractSection(MSG, parseMime(MSG), spec);
  return out === null ? null : dec.decode(out);
};

describe("MIME structure and sections", () => {
  it("cuts exact byte ranges for parts, headers, text and MIME headers", () => {
    expect(section("")).toBe(dec.decode(MSG));
    expect(section("1")).toBe("line one\r\nline two");
    expect(section("1.MIME")).toBe('Content-Type: text/plain; charset="utf-8"\r\n\r\n');
    expect(section("2")).toBe("Subject: inner\r\n\r\ninner body");
    expect(section("2.HEADER")).toBe("Subject: inner\r\n\r\n");
    expect(section("2.TEXT")).toBe("inner body");
    expect(section("2.1")).toBe("inner body");
    expect(section("TEXT")?.startsWith("preamble\r\n--b1\r\n")).toBe(true);
    expect(section("HEADER")?.endsWith('boundary="b1"\r\n\r\n')).toBe(true);
    expect(section("HEADER.FIELDS (subject MESSAGE-ID)")).toBe(
      "Subject: =?utf-8?q?caf=C3=A9?=\r\nMessage-ID: <m1@example.test>\r\n\r\n",
    );
    expect(section("HEADER.FIELDS.NOT (From To Cc Subject Date Content-Type)")).toBe(
      "Message-ID: <m1@example.test>\r\n\r\n",
    );
    expect(section("3")).toBeNull();
    expect(section("1.HEADER")).toBeNull();
    expect(parseSection("MIME")).toBeNull();
    expect(parseSection("HEADER.FIELDS")).toBeNull();
    expect(dec.decode(partial(enc.encode("0123456789"), 2, 3))).toBe("234");
    expect(dec.decode(partial(enc.encode("0123"), 10, 3))).toBe("");
  });

  it("builds BODYSTRUCTURE and BODY", () => {
    const root = parseMime(MSG);
    expect(encodeToString(bodyStructure(MSG, root, true))).toBe(
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 18 1 NIL NIL NIL NIL)' +
        '("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 28 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 0 NIL NIL NIL NIL) 2 NIL ("INLINE" NIL) NIL NIL)' +
        ' "MIXED" ("BOUNDARY" "b1") NIL NIL NIL)',
    );
    expect(encodeToString(bodyStructure(MSG, root, false))).toBe(
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 18 1)' +
        '("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 28 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 0) 2) "MIXED")',
    );
  });

  it("builds ENVELOPE with groups and quoted names", () => {
    expect(encodeToString(envelope(parseMime(MSG).headers))).toBe(
      '("Mon, 1 Jan 2024 10:00:00 +0100" "=?utf-8?q?caf=C3=A9?=" ' +
        '(("Doe, Jane" NIL "jane" "example.test")(NIL NIL "bob" "example.test")) ' +
        '(("Doe, Jane" NIL "jane" "example.test")(NIL NIL "bob" "example.test")) ' +
        '(("Doe, Jane" NIL "jane" "example.test")(NIL NIL "bob" "example.test")) ' +
        '((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ' +
        '((NIL NIL "Team" NIL)(NIL NIL "a" "x.test")("B" NIL "b" "y.test")(NIL NIL NIL NIL)) ' +
        'NIL NIL "<m1@example.test>")',
    );
    expect(parseAddressList("Jo (comment) <jo@x.test>")).toEqual([
      { name: "Jo", mailbox: "jo", host: "x.test" },
    ]);
  });

  it("treats a message without a blank line as all header", () => {
    const raw = enc.encode("Subject: x\r\nFrom: a@b.test\r\n");
    const root = parseMime(raw);
    expect(root.bodyStart).toBe(raw.length);
    expect(encodeToString(bodyStructure(raw, root, false))).toBe(
      '("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0)',
    );
  });
});
