/**
 * The webhook JSON document, version 1 (`format: json`). Its zod schema is the published contract:
 * `webhookPayloadJsonSchema()` renders it as JSON Schema for receivers.
 */
import type { Address, Email } from "postal-mime";
import { z } from "zod";
import { toBase64 } from "../encoding.ts";
import { stripQuotedReply } from "./reply-text.ts";

const AddressSchema = z.object({
  address: z.string(),
  name: z.string(),
  /** The plus-address tag: `tag` for `user+tag@example.com`, else null. */
  tag: z.string().nullable(),
});

export const AttachmentSchema = z.object({
  filename: z.string().nullable(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  contentId: z.string().nullable(),
  disposition: z.string().nullable(),
  /** base64 content, for attachments up to the configured inline size; else null and `url` is set. */
  content: z.string().nullable(),
  /** A signed, expiring download URL for attachments above the inline size. */
  url: z.string().nullable(),
});

export const WebhookPayloadSchema = z.object({
  /** The payload format; a new major shape gets a new number. */
  version: z.literal(1),
  /** What happened: a message was stored. */
  type: z.literal("message.received"),
  /** The stored message's id (`GET /api/messages/:id`, `mxedge messages show`). */
  id: z.string(),
  /** When the edge stored it (ISO 8601, UTC). */
  receivedAt: z.string(),
  /** SMTP envelope: MAIL FROM and every RCPT TO of the transaction. */
  envelope: z.object({ mailFrom: z.string(), rcptTo: z.array(z.string()) }),
  /** The sending client, from PROXY protocol when there is a load balancer. */
  connection: z.object({ clientIp: z.string(), helo: z.string(), tls: z.boolean() }),
  /** Every header field in order, as written by the sender. */
  headers: z.array(z.object({ name: z.string(), value: z.string() })),
  /** The From header's first address. */
  from: AddressSchema.nullable(),
  to: z.array(AddressSchema),
  cc: z.array(AddressSchema),
  replyTo: z.array(AddressSchema),
  /** Decoded Subject. */
  subject: z.string().nullable(),
  /** The Date header (postal-mime gives ISO 8601 when it parses). */
  date: z.string().nullable(),
  messageId: z.string().nullable(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  /** The text/plain body (decoded). */
  text: z.string().nullable(),
  /** The text/html body (decoded). */
  html: z.string().nullable(),
  /** `text` without the quoted message it replies to and without the signature. */
  replyText: z.string().nullable(),
  /** Attachments, inline as base64 up to the endpoint's `inlineLimitBytes`, else as a signed `url`. */
  attachments: z.array(AttachmentSchema),
  /** SPF, DKIM (one per signature), DMARC and ARC results, as in `GET /api/messages/:id`. */
  auth: z.object({
    spf: z.unknown().nullable(),
    dkim: z.array(z.unknown()),
    dmarc: z.unknown().nullable(),
    arc: z.unknown().nullable(),
  }),
  /** The rules that matched, with the actions they took. */
  rules: z.array(z.object({ rule: z.string(), actions: z.array(z.string()) })),
  /** A signed, expiring URL to the raw message as stored. */
  rawUrl: z.string().nullable(),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

export function webhookPayloadJsonSchema(): unknown {
  return z.toJSONSchema(WebhookPayloadSchema);
}

function plusTag(address: string): string | null {
  const at = address.lastIndexOf("@");
  const local = at > 0 ? address.slice(0, at) : address;
  const plus = local.indexOf("+");
  return plus > 0 ? local.slice(plus + 1) : null;
}

function addresses(list: Address[] | undefined): WebhookPayload["to"] {
  const out: WebhookPayload["to"] = [];
  for (const a of list ?? []) {
    for (const m of a.group ?? [a]) {
      if (m.address) out.push({ address: m.address, name: m.name, tag: plusTag(m.address) });
    }
  }
  return out;
}

export interface PayloadInput {
  id: string;
  receivedAt: number;
  email: Email;
  envelope: { mailFrom: string; rcptTo: string[] };
  connection: { clientIp: string; helo: string; tls: boolean };
  auth: { spf?: unknown; dkim?: unknown[]; dmarc?: unknown; arc?: unknown } | null;
  rules: Array<{ rule: string; actions: string[] }>;
  /** Attachments up to this many bytes are sent inline as base64. */
  inlineLimit: number;
  /** Builds a signed URL for an attachment (by index) or, with null, for the raw message. */
  signedUrl: (attachment: number | null) => Promise<string | null>;
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  return typeof content === "string"
    ? new TextEncoder().encode(content)
    : content instanceof Uint8Array
      ? content
      : new Uint8Array(content);
}

export async function buildPayload(input: PayloadInput): Promise<WebhookPayload> {
  const { email } = input;
  const attachments = await Promise.all(
    email.attachments.map(async (a, i) => {
      const bytes = bytesOf(a.content);
      const inline = bytes.length <= input.inlineLimit;
      return {
        filename: a.filename,
        contentType: a.mimeType,
        size: bytes.length,
        contentId: a.contentId ?? null,
        disposition: a.disposition,
        content: inline ? toBase64(bytes) : null,
        url: inline ? null : await input.signedUrl(i),
      };
    }),
  );
  const from = addresses(email.from ? [email.from] : [])[0] ?? null;
  return {
    version: 1,
    type: "message.received",
    id: input.id,
    receivedAt: new Date(input.receivedAt).toISOString(),
    envelope: input.envelope,
    connection: input.connection,
    headers: email.headers.map((h) => ({ name: h.originalKey, value: h.value })),
    from,
    to: addresses(email.to),
    cc: addresses(email.cc),
    replyTo: addresses(email.replyTo),
    subject: email.subject ?? null,
    date: email.date ?? null,
    messageId: email.messageId ?? null,
    inReplyTo: email.inReplyTo ?? null,
    references: (email.references ?? "").match(/<[^<>\s]+>/g) ?? [],
    text: email.text ?? null,
    html: email.html ?? null,
    replyText: email.text ? stripQuotedReply(email.text) : null,
    attachments,
    auth: {
      spf: input.auth?.spf ?? null,
      dkim: input.auth?.dkim ?? [],
      dmarc: input.auth?.dmarc ?? null,
      arc: input.auth?.arc ?? null,
    },
    rules: input.rules,
    rawUrl: await input.signedUrl(null),
  };
}
