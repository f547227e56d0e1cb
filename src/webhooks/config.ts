/** A webhook endpoint as declared in the config file or posted to the admin API. */
import { z } from "zod";

export const WebhookConfigSchema = z.strictObject({
  /** Names the endpoint in rules (`webhook <name>`), the CLI and the API. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, "letters, digits, dot, dash, underscore"),
  /** Where the POST goes; private and loopback targets need `webhookAllow`. */
  url: z.url(),
  /** A Standard Webhooks secret: `whsec_` and base64 of at least 16 bytes. */
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{22,}={0,2}$/, "a whsec_ secret (whsec_ + base64 of 16+ bytes)"),
  /** json: the parsed message (schema at /api/webhooks/schema.json) · raw: message/rfc822 with x-mxedge-* envelope headers. */
  format: z.enum(["json", "raw"]).default("json"),
  /** Mail for these recipient domains / addresses; none of either: every message. */
  domains: z.array(z.string().min(1)).optional(),
  /** Mail for these recipient addresses (with `domains`: either matches). */
  addresses: z.array(z.string().min(3)).optional(),
  /** Only when a rule's `webhook <name>` action names it. */
  rulesOnly: z.boolean().default(false),
  /** Attachments up to this size go inline (base64); larger ones as signed links. */
  inlineLimitBytes: z
    .number()
    .int()
    .min(0)
    .max(25 * 1024 * 1024)
    .default(256 * 1024),
  /**
   * async (default): stored, 250, then delivered through the outbox. sync: the SMTP answer waits for
   * the webhook (2xx → 250; 406 or {"reject": "text"} → 550 5.7.1 text; anything else → 451 4.3.0).
   */
  mode: z.enum(["async", "sync"]).default("async"),
  /** sync only: how long the SMTP answer waits (keep it well under the relay's edge timeout). */
  timeoutMs: z.number().int().min(100).max(50_000).default(10_000),
  /** sync only: false makes mxedge a pure SMTP→HTTP gateway (the message is not stored). */
  store: z.boolean().default(true),
});
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

export function endpointInput(w: WebhookConfig) {
  return {
    name: w.name,
    url: w.url,
    secret: w.secret,
    format: w.format,
    filters: {
      domains: w.domains,
      addresses: w.addresses,
      rulesOnly: w.rulesOnly,
      inlineLimitBytes: w.inlineLimitBytes,
      mode: w.mode,
      timeoutMs: w.timeoutMs,
      store: w.store,
    },
  };
}
