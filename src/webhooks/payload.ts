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
  version: z.literal(1),
  type: z.literal("message.received"),
  id: z.string(),
  receivedAt: z.string(),
  envelope: z.object({ mailFrom: z.string(), rcptTo: z.array(z.string()) }),
  connection: z.object({ clientIp: z.string(), helo: z.string(), tls: z.boolean() }),
  headers: z.array(z.object({ name: z.string(), value: z.string() })),
  from: AddressSchema.nullable(),
  to: z.array(AddressSchema),
  cc: z.array(AddressSchema),
  replyTo: z.array(AddressSchema),
  subject: z.string().nullable(),
  date: z.string().nullable(),
  messageId: z.string().nullable(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  text: z.string().nullable(),
  html: z.string().nullable(),
  /** `text` without the quoted message it replies to and without the signature. */
  replyText: z.string().nullable(),
  attachments: z.array(AttachmentSchema),
  auth: z.object({
    spf: z.unknown().nullable(),
    dkim: z.array(z.unknown()),
    dmarc: z.unknown().nullable(),
    arc: z.unknown().nullable(),
  }),
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
