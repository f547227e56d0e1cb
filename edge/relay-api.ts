/**
 * The relay API's operations, typed: what the relay asks while an SMTP session runs (recipient
 * checks, AUTH, message ingest). The HTTP routes (edge/routes/relay.ts) validate a request, call
 * these, and encode the answer; the embedded relay calls them in-process (relay/edge-local.ts),
 * and the edge thread calls `ingest` for messages handed to it (edge/edge-thread.ts). One set of
 * decisions, whatever the transport.
 */
import {
  type AuthRequest,
  type AuthResponse,
  type EdgeError,
  type IngestResponse,
  type RecipientRequest,
  type RecipientResponse,
  type SmtpReply,
  TEMPFAIL,
  type Transaction,
} from "../src/contract.ts";
import type { HandlerScope } from "../src/pipeline/handler-stage.ts";
import { runPipeline } from "../src/pipeline/pipeline.ts";
import { envelopeInput, lookupDnsbls } from "../src/pipeline/policy-stage.ts";
import { recipientReply } from "../src/pipeline/route.ts";
import { evaluateRules } from "../src/rules/engine.ts";
import { recipientDomains } from "../src/store/stats.ts";
import type { EdgeContext } from "./context.ts";

/** An answer, or a refusal with the HTTP status its route gives it. */
export type RelayAnswer<T> =
  | { ok: true; value: T }
  | { ok: false; status: 400 | 413 | 422; refusal: EdgeError };

export interface IngestInput {
  transaction: Transaction;
  /** The relay's per-transaction key (checked: see IDEMPOTENCY_KEY). */
  idempotencyKey: string;
  /** The dot-unstuffed message, whole (at most the edge's maxMessageBytes). */
  raw: Uint8Array;
  /** The Worker's env and ExecutionContext, for an email() handler. */
  scope?: HandlerScope;
}

export interface RelayApi {
  recipient(req: RecipientRequest): Promise<RecipientResponse>;
  auth(req: AuthRequest): Promise<AuthResponse>;
  ingest(input: IngestInput): Promise<RelayAnswer<IngestResponse>>;
  /** The largest message `ingest` takes; a transport refuses a longer body with `tooLarge`. */
  readonly maxMessageBytes: number;
}

/** The form of an idempotency key the relay sends. */
export const IDEMPOTENCY_KEY = /^[\w.:-]{8,200}$/;

export const refusal = (error: string, reply: SmtpReply): EdgeError => ({ error, reply });

/** A body over maxMessageBytes (RFC 3463 5.3.4), as every transport answers it. */
export const tooLarge: RelayAnswer<never> = {
  ok: false,
  status: 413,
  refusal: refusal("message too large", {
    code: 552,
    enhanced: "5.3.4",
    message: "Message size exceeds fixed maximum message size",
  }),
};

/**
 * RCPT-time policy for an accepted recipient: envelope-only rules, then the DNSBL default
 * (a listed client is refused with 554 5.7.1 before any DATA is sent).
 */
async function envelopePolicyReply(
  ctx: EdgeContext,
  mailFrom: string,
  rcptTo: string,
  session: RecipientRequest["session"],
): Promise<SmtpReply | null> {
  if (!ctx.policy) return null;
  const tx = { mailFrom, session };
  const dnsbl = await lookupDnsbls(ctx.policy, ctx.auth?.resolver, tx);
  const decision = evaluateRules(ctx.policy.rules, envelopeInput(tx, [rcptTo], dnsbl), "rcpt");
  if (decision.verdict === "accept") return null;
  if (decision.reply) return decision.reply;
  if (dnsbl && dnsbl.hits.length > 0) {
    return {
      code: 554,
      enhanced: "5.7.1",
      message: `Client host listed by ${dnsbl.hits.map((h) => h.zone).join(", ")}`,
    };
  }
  return null;
}

/**
 * RCPT-time quota: when every user the address delivers to is at or over their quota, 452 4.2.2
 * (RFC 3463 X.2.2 mailbox full; transient, so the sender retries after the user makes room).
 * The quota is the same as IMAP's: users.quota_bytes, else the configured default.
 */
async function quotaReply(ctx: EdgeContext, userIds: number[]): Promise<SmtpReply | null> {
  if (userIds.length === 0) return null;
  for (const id of userIds) {
    // Most users have no quota: don't sum their mailboxes on every RCPT to find that out.
    const limit = (await ctx.store.directory.quotaOf(id)) ?? ctx.quotaBytes ?? null;
    if (limit === null) return null;
    if ((await ctx.store.mail.usedBytes(id)) < limit) return null;
  }
  return { code: 452, enhanced: "4.2.2", message: "Mailbox full" };
}

/** Counts a refusal per recipient domain; a failure to count never changes the SMTP answer. */
async function countRefused(ctx: EdgeContext, rcptTo: string[]): Promise<void> {
  await ctx.store.stats.count("refused", recipientDomains(rcptTo), ctx.now()).catch(() => {});
}

export function relayApi(ctx: EdgeContext): RelayApi {
  return {
    maxMessageBytes: ctx.maxMessageBytes,

    async recipient({ rcptTo, session, mailFrom }) {
      const resolution = await ctx.store.directory.resolveRecipient(rcptTo);
      let reply = recipientReply(resolution, session.user !== null);
      if (reply.code < 300 && resolution.status === "local")
        reply = (await quotaReply(ctx, resolution.userIds)) ?? reply;
      if (reply.code < 300) reply = (await envelopePolicyReply(ctx, mailFrom, rcptTo, session)) ?? reply;
      // A refused recipient of one of our domains is counted for the dashboard (never stored otherwise).
      if (reply.code >= 300 && resolution.status !== "not-local" && resolution.status !== "invalid")
        await countRefused(ctx, [rcptTo]);
      return { accept: reply.code < 300, reply };
    },

    async auth({ username, password }) {
      const user = await ctx.store.directory.authenticate(username, password);
      return { ok: user !== null, user: user?.login ?? null };
    },

    async ingest({ transaction, idempotencyKey, raw, scope }) {
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        return { ok: false, status: 400, refusal: refusal("bad idempotency key", TEMPFAIL) };
      }
      if (raw.length > ctx.maxMessageBytes) return tooLarge;
      const outcome = await runPipeline({ transaction, idempotencyKey, raw, scope }, ctx);
      if (outcome.kind === "refused") {
        await countRefused(ctx, transaction.rcptTo);
        return { ok: false, status: 422, refusal: refusal("refused", outcome.reply) };
      }
      return {
        ok: true,
        value: { stored: true, id: outcome.id, duplicate: outcome.duplicate, reply: outcome.reply },
      };
    },
  };
}
