/** Parse stage: postal-mime reads the message once; the summary is what listings and the API show. */
import PostalMime, { type Address, type Email } from "postal-mime";
import type { MessageSummary } from "../store/schema.ts";
import { installFastMimeJoin } from "./mime-join.ts";

installFastMimeJoin();

function flatten(list: Address[] | undefined): string[] {
  const out: string[] = [];
  for (const a of list ?? []) {
    if (a.group) for (const m of a.group) out.push(m.address);
    else if (a.address) out.push(a.address);
  }
  return out;
}

function formatMailbox(a: Address | undefined): string | null {
  if (!a) return null;
  if (a.group) return a.name || null;
  if (!a.address) return a.name || null;
  return a.name ? `${a.name} <${a.address}>` : a.address;
}

/** The From header's addresses, for rules and DMARC-style checks. */
export function fromAddresses(email: Email): string[] {
  return flatten(email.from ? [email.from] : []);
}

export async function parseMessage(raw: Uint8Array): Promise<Email> {
  return PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" });
}

export function summarize(email: Email): MessageSummary {
  return {
    from: formatMailbox(email.from),
    to: flatten(email.to),
    cc: flatten(email.cc),
    subject: email.subject ?? null,
    date: email.date ?? null,
    messageId: email.messageId ?? null,
    inReplyTo: email.inReplyTo ?? null,
    references: (email.references ?? "").match(/<[^<>\s]+>/g) ?? [],
    attachmentCount: email.attachments.length,
    attachments: email.attachments.map((a) => ({
      filename: a.filename,
      mimeType: a.mimeType,
      size: typeof a.content === "string" ? a.content.length : a.content.byteLength,
      disposition: a.disposition,
    })),
  };
}
