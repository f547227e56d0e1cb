import { describe, expect, it } from "vitest";
import { parseMessage } from "../../src/pipeline/parse.ts";
import { buildPayload, WebhookPayloadSchema, webhookPayloadJsonSchema } from "../../src/webhooks/payload.ts";
import { stripQuotedReply } from "../../src/webhooks/reply-text.ts";
import { signPath, verifySignedPath } from "../../src/webhooks/signed-url.ts";

const png =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const big = btoa("x".repeat(3000));
const raw = new TextEncoder().encode(
  [
    "From: Zoë <zoe+news@sender.test>",
    "To: Support <support+urgent@example.test>, ops@example.test",
    "Reply-To: replies@sender.test",
    "Subject: =?UTF-8?Q?R=C3=BCckfrage_=E2=9C=93?=",
    "Message-ID: <q1@sender.test>",
    "References: <p0@example.test>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="m"',
    "",
    "--m",
    'Content-Type: multipart/related; boundary="r"',
    "",
    "--r",
    "Content-Type: text/html; charset=utf-8",
    "",
    '<p>Hallo</p><img src="cid:logo@x">',
    "--r",
    "Content-Type: image/png",
    "Content-ID: <logo@x>",
    "Content-Disposition: inline",
    "Content-Transfer-Encoding: base64",
    "",
    png,
    "--r--",
    "--m",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Thanks, that works.",
    "",
    "On Mon, 23 Nov 2026, Support <support@example.test> wrote:",
    "> Did it work?",
    "--m",
    'Content-Type: application/octet-stream; name="big.bin"',
    "Content-Disposition: attachment; filename=big.bin",
    "Content-Transfer-Encoding: base64",
    "",
    big,
    "--m--",
    "",
  ].join("\r\n"),
);

describe("webhook JSON payload", () => {
  it("matches its published schema, with plus-tags, UTF-8 subject, inline image and a linked large attachment", async () => {
    const email = await parseMessage(raw);
    const payload = await buildPayload({
      id: "01TEST",
      receivedAt: 0,
      email,
      envelope: { mailFrom: "zoe+news@sender.test", rcptTo: ["support+urgent@example.test"] },
      connection: { clientIp: "192.0.2.7", helo: "mail.sender.test", tls: true },
      auth: { spf: { result: "pass" }, dkim: [], dmarc: null, arc: null },
      rules: [{ rule: "tickets", actions: ["webhook tickets"] }],
      inlineLimit: 1024,
      signedUrl: async (n) =>
        n === null ? "https://edge.test/files/01TEST/raw?sig" : `https://edge.test/files/01TEST/${n}?sig`,
    });
    expect(WebhookPayloadSchema.parse(payload)).toEqual(payload);
    expect(payload.subject).toBe("Rückfrage ✓");
    expect(payload.from).toEqual({ address: "zoe+news@sender.test", name: "Zoë", tag: "news" });
    expect(payload.to).toEqual([
      { address: "support+urgent@example.test", name: "Support", tag: "urgent" },
      { address: "ops@example.test", name: "", tag: null },
    ]);
    // postal-mime joins the text of every body part (here the HTML one, then the plain one).
    expect(payload.replyText).toBe("Hallo\n\nThanks, that works.");
    const [logo, bin] = payload.attachments;
    expect(logo).toMatchObject({
      contentType: "image/png",
      contentId: "<logo@x>",
      disposition: "inline",
      content: png,
      url: null,
    });
    expect(bin).toMatchObject({
      filename: "big.bin",
      size: 3000,
      content: null,
      url: "https://edge.test/files/01TEST/1?sig",
    });
    expect(payload.rawUrl).toBe("https://edge.test/files/01TEST/raw?sig");
    expect(webhookPayloadJsonSchema()).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["id", "envelope", "auth"]),
    });
  });
});

describe("reply text", () => {
  it("drops attributions, Outlook blocks, trailing quotes and signatures", () => {
    expect(stripQuotedReply("Yes.\n\nOn Tue, Bob wrote:\n> Q?")).toBe("Yes.");
    expect(stripQuotedReply("Oui.\nLe mardi, Bob a écrit :\n> Q?")).toBe("Oui.");
    expect(stripQuotedReply("Ok\r\n-----Original Message-----\r\nFrom: x")).toBe("Ok");
    expect(stripQuotedReply("Ok\nFrom: Bob\nSent: Tuesday\n\nold")).toBe("Ok");
    expect(stripQuotedReply("> quoted first\nmy answer")).toBe("> quoted first\nmy answer");
    expect(stripQuotedReply("Hi\n-- \nAlice")).toBe("Hi");
  });
});

describe("signed URLs", () => {
  it("verify until they expire; any change to path, expiry or signature fails", async () => {
    const now = Date.now();
    const path = await signPath("s3cret", "/files/01TEST/raw", now + 60_000);
    const ok = new URL(path, "https://edge.test");
    expect(await verifySignedPath("s3cret", ok, now)).toBe(true);
    expect(await verifySignedPath("s3cret", ok, now + 120_000)).toBe(false);
    expect(await verifySignedPath("other", ok, now)).toBe(false);
    expect(
      await verifySignedPath("s3cret", new URL(path.replace("raw", "0"), "https://edge.test"), now),
    ).toBe(false);
    const later = new URL(ok);
    later.searchParams.set("exp", String(Number(ok.searchParams.get("exp")) + 3600));
    expect(await verifySignedPath("s3cret", later, now)).toBe(false);
  });
});
