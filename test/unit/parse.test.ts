import { describe, expect, it } from "vitest";
import { fromAddresses, parseMessage, summarize } from "../../src/pipeline/parse.ts";

const raw = new TextEncoder().encode(
  [
    'From: "Alice A." <alice@sender.test>',
    "To: bob@example.test, Team: carol@example.test, dave@example.test;",
    "Cc: eve@example.test",
    "Subject: =?UTF-8?B?SGVsbG8g4pyT?=",
    "Date: Mon, 23 Nov 2026 10:00:00 +0000",
    "Message-ID: <m3@sender.test>",
    "In-Reply-To: <m2@sender.test>",
    "References: <m1@sender.test>\r\n <m2@sender.test>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "Hi",
    "--b",
    'Content-Type: application/pdf; name="report.pdf"',
    "Content-Disposition: attachment; filename=report.pdf",
    "Content-Transfer-Encoding: base64",
    "",
    "JVBERi0xLjQK",
    "--b--",
    "",
  ].join("\r\n"),
);

describe("parse stage", () => {
  it("summarises addresses (groups flattened), decoded subject, threading and attachments", async () => {
    const email = await parseMessage(raw);
    expect(summarize(email)).toEqual({
      from: "Alice A. <alice@sender.test>",
      to: ["bob@example.test", "carol@example.test", "dave@example.test"],
      cc: ["eve@example.test"],
      subject: "Hello ✓",
      date: expect.stringMatching(/^2026-11-23T10:00:00/),
      messageId: "<m3@sender.test>",
      inReplyTo: "<m2@sender.test>",
      references: ["<m1@sender.test>", "<m2@sender.test>"],
      attachmentCount: 1,
      attachments: [
        { filename: "report.pdf", mimeType: "application/pdf", size: 9, disposition: "attachment" },
      ],
    });
    expect(fromAddresses(email)).toEqual(["alice@sender.test"]);
  });
});

describe("parse stage: decoded part bytes (the fast join in mime-join.ts)", () => {
  const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256);
  const b64 = (
    Buffer.from(bytes)
      .toString("base64")
      .match(/.{1,76}/g) ?? []
  ).join("\r\n");
  const text = Array.from({ length: 200 }, (_, i) => `line ${i} ünïcödé`).join("\r\n");
  const qp = "caf=C3=A9 soft=\r\nbreak and =3D sign\r\nsecond line";
  const message = new TextEncoder().encode(
    [
      "From: a@sender.test",
      "Subject: parts",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="x"',
      "",
      "--x",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      text,
      "--x",
      "Content-Type: text/html; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      qp,
      "--x",
      'Content-Type: application/octet-stream; name="b.bin"',
      "Content-Disposition: attachment; filename=b.bin",
      "Content-Transfer-Encoding: base64",
      "",
      b64,
      "--x--",
      "",
    ].join("\r\n"),
  );

  it("keeps plain, quoted-printable and base64 content byte for byte", async () => {
    const email = await parseMessage(message);
    // postal-mime shows both inline text parts in `text` (the HTML one converted) and in `html`.
    const decodedQp = "café softbreak and = sign\nsecond line\n";
    expect(email.text).toBe(`${text.replaceAll("\r\n", "\n")}\n\n${decodedQp}`);
    expect(email.html?.endsWith(`</div>\n${decodedQp}`)).toBe(true);
    const att = email.attachments[0];
    expect(att?.filename).toBe("b.bin");
    expect(new Uint8Array(att?.content as ArrayBuffer)).toEqual(bytes);
  });
});
