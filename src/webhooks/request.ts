/** The body and headers of one webhook request, in the endpoint's format (json or raw). */
import type { Email } from "postal-mime";
import type { Endpoint } from "../store/webhooks.ts";
import { buildPayload } from "./payload.ts";
import { signPath } from "./signed-url.ts";

export const DEFAULT_INLINE_LIMIT = 256 * 1024;

export interface WebhookMessage {
  id: string;
  receivedAt: number;
  raw: Uint8Array;
  email: Email;
  envelope: { mailFrom: string; rcptTo: string[] };
  connection: { clientIp: string; helo: string; tls: boolean };
  auth: { spf?: unknown; dkim?: unknown[]; dmarc?: unknown; arc?: unknown } | null;
  rules: Array<{ rule: string; actions: string[] }>;
}

export interface LinkSigner {
  publicUrl: string;
  urlSigningKey: string;
  now(): number;
  linkTtlMs?: number;
}

export async function webhookRequest(
  endpoint: Endpoint,
  m: WebhookMessage,
  /** null when the message is not stored, so no download link can work. */
  links: LinkSigner | null,
): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
  if (endpoint.format === "raw") {
    return {
      body: m.raw,
      headers: {
        "content-type": "message/rfc822",
        "x-mxedge-mail-from": m.envelope.mailFrom,
        "x-mxedge-rcpt-to": m.envelope.rcptTo.join(", "),
        "x-mxedge-message-id": m.id,
      },
    };
  }
  const expires = links ? links.now() + (links.linkTtlMs ?? 7 * 24 * 3600_000) : 0;
  const link = async (path: string) =>
    links ? new URL(await signPath(links.urlSigningKey, path, expires), links.publicUrl).toString() : null;
  const payload = await buildPayload({
    ...m,
    inlineLimit: endpoint.filters.inlineLimitBytes ?? DEFAULT_INLINE_LIMIT,
    signedUrl: (n) => link(n === null ? `/files/${m.id}/raw` : `/files/${m.id}/attachments/${n}`),
  });
  return {
    body: new TextEncoder().encode(JSON.stringify(payload)),
    headers: { "content-type": "application/json" },
  };
}
