/** The relay API over HTTP (/relay/v1/...): validates a request, calls edge/relay-api.ts, encodes the answer. */
import { type Context, Hono } from "hono";
import {
  AuthRequestSchema,
  decodeTransaction,
  IDEMPOTENCY_HEADER,
  RELAY_API_VERSION,
  RecipientRequestSchema,
  TEMPFAIL,
  TRANSACTION_HEADER,
} from "../../src/contract.ts";
import { readLimited } from "../../src/streams.ts";
import type { EdgeContext } from "../context.ts";
import { IDEMPOTENCY_KEY, type RelayAnswer, refusal, relayApi, tooLarge } from "../relay-api.ts";

/** The Worker's ExecutionContext, or null where there is none (Hono throws when asked then). */
function executionContext(c: Context): unknown {
  try {
    return c.executionCtx;
  } catch {
    return null;
  }
}

const answer = <T>(c: Context, a: RelayAnswer<T>) => (a.ok ? c.json(a.value) : c.json(a.refusal, a.status));

export function relayRoutes(ctx: EdgeContext): Hono {
  const api = relayApi(ctx);
  const app = new Hono();
  const badRequest = (c: Context) => c.json(refusal("bad request", TEMPFAIL), 400);

  app.get("/health", (c) => c.json({ ok: true, version: RELAY_API_VERSION }));

  app.post("/recipient", async (c) => {
    const parsed = RecipientRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return badRequest(c);
    return c.json(await api.recipient(parsed.data));
  });

  app.post("/auth", async (c) => {
    const parsed = AuthRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return badRequest(c);
    return c.json(await api.auth(parsed.data));
  });

  app.post("/messages", async (c) => {
    const transaction = decodeTransaction(c.req.header(TRANSACTION_HEADER));
    const key = c.req.header(IDEMPOTENCY_HEADER) ?? "";
    if (!transaction || !IDEMPOTENCY_KEY.test(key)) {
      await c.req.raw.body?.cancel().catch(() => {});
      return c.json(refusal("bad transaction header or idempotency key", TEMPFAIL), 400);
    }
    const body = await readLimited(c.req.raw.body, ctx.maxMessageBytes);
    if (!body.ok) return answer(c, tooLarge);
    // Only an email() handler sees the scope (and asking Hono for a missing ExecutionContext throws).
    const scope = ctx.handler ? { env: c.env, ctx: executionContext(c) } : undefined;
    return answer(c, await api.ingest({ transaction, idempotencyKey: key, raw: body.bytes, scope }));
  });

  return app;
}
