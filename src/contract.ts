/**
 * The relay↔edge contract, version 1. Both sides import this file, so they cannot drift apart.
 *
 *   POST /relay/v1/recipient   JSON RecipientRequest → RecipientResponse          (RCPT TO time)
 *   POST /relay/v1/auth        JSON AuthRequest → AuthResponse                     (SASL PLAIN/LOGIN)
 *   POST /relay/v1/messages    body: the dot-unstuffed message, streamed (message/rfc822)
 *                              header `mxedge-transaction: v1.<base64url(JSON Transaction)>`
 *                              header `idempotency-key: <key>` → IngestResponse
 *                              (the relay's key is per transaction; the edge stores under a content key
 *                              instead when the message has a Message-ID, so an MTA's retry — a new
 *                              transaction — is recognised: see src/pipeline/idempotency.ts)
 *                              The body never contains a bare CR or LF (refused with 554 5.5.2).
 *   GET  /relay/v1/health      → { ok: true, version: 1 }
 *
 * Every request carries `authorization: Bearer <relay secret>`.
 * Any reply that is not a 2xx with a valid body means "not stored": the relay answers 451 4.3.0.
 */
import { z } from "zod";
import { fromBase64Url, toBase64Url } from "./encoding.ts";

export const RELAY_API_VERSION = 1;
export const RELAY_PATHS = {
  recipient: "/relay/v1/recipient",
  auth: "/relay/v1/auth",
  messages: "/relay/v1/messages",
  health: "/relay/v1/health",
} as const;
export const TRANSACTION_HEADER = "mxedge-transaction";
export const IDEMPOTENCY_HEADER = "idempotency-key";

const endpoint = z.object({ address: z.string().min(1).max(64), port: z.number().int().min(0).max(65535) });

export const ConnectionInfoSchema = z.object({
  client: endpoint,
  server: endpoint,
  proxy: endpoint.nullable(),
  proxyVersion: z.union([z.literal(1), z.literal(2)]).nullable(),
  tls: z
    .object({
      terminatedBy: z.enum(["relay", "proxy"]),
      version: z.string().nullable(),
      cipher: z.string().nullable(),
      sni: z.string().nullable(),
      clientCertCn: z.string().nullable(),
      clientCertVerified: z.boolean(),
    })
    .nullable(),
  authority: z.string().nullable(),
  uniqueId: z.string().nullable(),
  alpn: z.string().nullable(),
});

/** What the SMTP session knows besides the connection: HELO, AUTH, and the reverse DNS name if looked up. */
export const SessionSchema = z.object({
  helo: z.string().max(512),
  /** The authenticated login (SMTP AUTH), or null. */
  user: z.string().nullable(),
  /** "ESMTP" | "ESMTPS" | "ESMTPSA" … as used in Received. */
  protocol: z.string().max(16),
  rdns: z.string().nullable(),
  connection: ConnectionInfoSchema,
});
export type SessionInfo = z.infer<typeof SessionSchema>;

export const DsnSchema = z.object({
  ret: z.enum(["FULL", "HDRS"]).nullable(),
  envid: z.string().nullable(),
  notify: z.record(z.string(), z.array(z.string())),
  orcpt: z.record(z.string(), z.string()),
});

export const TransactionSchema = z.object({
  version: z.literal(1),
  mailFrom: z.string().max(1024),
  rcptTo: z.array(z.string().max(1024)).min(1).max(10_000),
  /** SIZE= from MAIL FROM, when the client declared one. */
  declaredSize: z.number().int().nonnegative().nullable(),
  /** BODY=8BITMIME / SMTPUTF8 flags as given. */
  body: z.enum(["7BIT", "8BITMIME", "BINARYMIME"]).nullable(),
  smtputf8: z.boolean(),
  dsn: DsnSchema.nullable(),
  session: SessionSchema,
});
export type Transaction = z.infer<typeof TransactionSchema>;

export function encodeTransaction(t: Transaction): string {
  return `v1.${toBase64Url(new TextEncoder().encode(JSON.stringify(t)))}`;
}

export function decodeTransaction(header: string | null | undefined): Transaction | null {
  if (!header?.startsWith("v1.")) return null;
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(header.slice(3))));
    const parsed = TransactionSchema.safeParse(json);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** An SMTP reply the edge wants the relay to send. */
export const SmtpReplySchema = z.object({
  code: z.number().int().min(200).max(599),
  enhanced: z.string().regex(/^[245]\.\d{1,3}\.\d{1,3}$/),
  message: z.string().max(512),
});
export type SmtpReply = z.infer<typeof SmtpReplySchema>;

export const RecipientRequestSchema = z.object({
  mailFrom: z.string().max(1024),
  rcptTo: z.string().max(1024),
  session: SessionSchema,
});
export type RecipientRequest = z.infer<typeof RecipientRequestSchema>;

export const RecipientResponseSchema = z.object({ accept: z.boolean(), reply: SmtpReplySchema });
export type RecipientResponse = z.infer<typeof RecipientResponseSchema>;

export const AuthRequestSchema = z.object({
  username: z.string().max(512),
  password: z.string().max(1024),
  mechanism: z.enum(["PLAIN", "LOGIN"]),
  connection: ConnectionInfoSchema,
});
export type AuthRequest = z.infer<typeof AuthRequestSchema>;

export const AuthResponseSchema = z.object({ ok: z.boolean(), user: z.string().nullable() });
export type AuthResponse = z.infer<typeof AuthResponseSchema>;

export const IngestResponseSchema = z.object({
  stored: z.literal(true),
  id: z.string(),
  duplicate: z.boolean(),
  reply: SmtpReplySchema,
});
export type IngestResponse = z.infer<typeof IngestResponseSchema>;

/** Body of any refusal (4xx/5xx HTTP) from the edge; `reply` is what the SMTP client should see. */
export const EdgeErrorSchema = z.object({ error: z.string(), reply: SmtpReplySchema });
export type EdgeError = z.infer<typeof EdgeErrorSchema>;

export const TEMPFAIL: SmtpReply = {
  code: 451,
  enhanced: "4.3.0",
  message: "Temporary failure, please retry",
};
