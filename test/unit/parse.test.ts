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
