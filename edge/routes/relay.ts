/** The relay API (/relay/v1/...): what the relay asks while an SMTP session runs. */
import { type Context, Hono } from "hono";
import {
  AuthRequestSchema,
  type AuthResponse,
  decodeTransaction,
  type EdgeError,
  IDEMPOTENCY_HEADER,
  type IngestResponse,
  RELAY_API_VERSION,
  type RecipientRequest,
  RecipientRequestSchema,
  type RecipientResponse,
  type SmtpReply,
  TEMPFAIL,
  TRANSACTION_HEADER,
} from "../../src/contract.ts";
import { runPipeline } from "../../src/pipeline/pipeline.ts";
import { envelopeInput, lookupDnsbls } from "../../src/pipeline/policy-stage.ts";
import { recipientReply } from "../../src/pipeline/route.ts";
import { evaluateRules } from "../../src/rules/engine.ts";
import { readLimited } from "../../src/streams.ts";
import type { EdgeContext } from "../context.ts";

const refuse = (error: string, reply: SmtpReply): EdgeError => ({ error, reply });

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

/** The Worker's ExecutionContext, or null where there is none (Hono throws when asked then). */
function executionContext(c: Context): unknown {
  try {
    return c.executionCtx;
  } catch {
    return null;
  }
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

export function relayRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();

  app.get("/health", (c) => c.json({ ok: true, version: RELAY_API_VERSION }));

  app.post("/recipient", async (c) => {
    const parsed = RecipientRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json(refuse("bad request", TEMPFAIL), 400);
    const { rcptTo, session, mailFrom } = parsed.data;
    const resolution = await ctx.store.directory.resolveRecipient(rcptTo);
    let reply = recipientReply(resolution, session.user !== null);
    if (reply.code < 300 && resolution.status === "local")
      reply = (await quotaReply(ctx, resolution.userIds)) ?? reply;
    if (reply.code < 300) reply = (await envelopePolicyReply(ctx, mailFrom, rcptTo, session)) ?? reply;
    const body: RecipientResponse = { accept: reply.code < 300, reply };
    return c.json(body);
  });

  app.post("/auth", async (c) => {
    const parsed = AuthRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json(refuse("bad request", TEMPFAIL), 400);
    const user = await ctx.store.directory.authenticate(parsed.data.username, parsed.data.password);
    const body: AuthResponse = { ok: user !== null, user: user?.login ?? null };
    return c.json(body);
  });

  app.post("/messages", async (c) => {
    const transaction = decodeTransaction(c.req.header(TRANSACTION_HEADER));
    const key = c.req.header(IDEMPOTENCY_HEADER) ?? "";
    if (!transaction || !/^[\w.:-]{8,200}$/.test(key)) {
      await c.req.raw.body?.cancel().catch(() => {});
      return c.json(refuse("bad transaction header or idempotency key", TEMPFAIL), 400);
    }
    const body = await readLimited(c.req.raw.body, ctx.maxMessageBytes);
    if (!body.ok) {
      const reply = {
        code: 552,
        enhanced: "5.3.4",
        message: "Message size exceeds fixed maximum message size",
      };
      return c.json(refuse("message too large", reply), 413);
    }
    // Only an email() handler sees the scope (and asking Hono for a missing ExecutionContext throws).
    const scope = ctx.handler ? { env: c.env, ctx: executionContext(c) } : undefined;
    const outcome = await runPipeline({ transaction, idempotencyKey: key, raw: body.bytes, scope }, ctx);
    if (outcome.kind === "refused") return c.json(refuse("refused", outcome.reply), 422);
    const response: IngestResponse = {
      stored: true,
      id: outcome.id,
      duplicate: outcome.duplicate,
      reply: outcome.reply,
    };
    return c.json(response);
  });

  return app;
}
