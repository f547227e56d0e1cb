/** The admin API (/api/...), behind the admin bearer token. */
import { Hono } from "hono";
import { z } from "zod";
import { StoreError } from "../../src/store/index.ts";
import { endpointInput, WebhookConfigSchema } from "../../src/webhooks/config.ts";
import { webhookPayloadJsonSchema } from "../../src/webhooks/payload.ts";
import { checkUrl } from "../../src/webhooks/ssrf.ts";
import type { EdgeContext } from "../context.ts";

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const DomainBody = z.object({ name: z.string().min(1).max(253) });
const UserBody = z.object({ address: z.string().min(3).max(320), password: z.string().min(8).max(1024) });

export function adminRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof StoreError) {
      const status = err.code === "exists" ? 409 : err.code === "not-found" ? 404 : 400;
      return c.json({ error: err.message }, status);
    }
    throw err;
  });

  app.get("/messages", async (c) => {
    const q = ListQuery.safeParse(c.req.query());
    if (!q.success) return c.json({ error: q.error.issues.map((i) => i.message).join("; ") }, 400);
    return c.json({ messages: await ctx.store.messages.list(q.data) });
  });

  app.get("/messages/:id", async (c) => {
    const message = await ctx.store.messages.get(c.req.param("id"));
    return message ? c.json(message) : c.json({ error: "no such message" }, 404);
  });

  app.get("/messages/:id/raw", async (c) => {
    const raw = await ctx.store.messages.raw(c.req.param("id"));
    if (!raw) return c.json({ error: "no such message" }, 404);
    return new Response(raw as Uint8Array<ArrayBuffer>, { headers: { "content-type": "message/rfc822" } });
  });

  app.get("/domains", async (c) => c.json({ domains: await ctx.store.directory.listDomains() }));
  app.post("/domains", async (c) => {
    const body = DomainBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return c.json({ error: "expected {name}" }, 400);
    return c.json(await ctx.store.directory.addDomain(body.data.name), 201);
  });

  app.get("/users", async (c) => c.json({ users: await ctx.store.directory.listUsers() }));
  app.post("/users", async (c) => {
    const body = UserBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return c.json({ error: "expected {address, password (8+ chars)}" }, 400);
    return c.json(await ctx.store.directory.addUser(body.data.address, body.data.password), 201);
  });

  app.get("/webhooks", async (c) =>
    c.json({ webhooks: (await ctx.store.webhooks.listEndpoints()).map(({ secret: _secret, ...e }) => e) }),
  );
  app.post("/webhooks", async (c) => {
    const body = WebhookConfigSchema.safeParse(await c.req.json().catch(() => null));
    if (!body.success)
      return c.json(
        { error: body.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") },
        400,
      );
    const target = checkUrl(body.data.url, ctx.webhookAllow);
    if (!target.ok) return c.json({ error: `url: ${target.reason}` }, 400);
    const { secret: _secret, ...endpoint } = await ctx.store.webhooks.upsertEndpoint(
      endpointInput(body.data),
    );
    return c.json(endpoint, 201);
  });
  app.get("/webhooks/schema.json", (c) => c.json(webhookPayloadJsonSchema() as Record<string, unknown>));
  app.get("/deliveries", async (c) => {
    const state = c.req.query("state");
    const states = ["pending", "delivered", "failed", "dead"] as const;
    const deliveries = await ctx.store.webhooks.listDeliveries({
      state: states.find((s) => s === state),
      ingestId: c.req.query("message"),
    });
    return c.json({ deliveries });
  });
  app.get("/deliveries/:id/attempts", async (c) =>
    c.json({ attempts: await ctx.store.webhooks.attempts(c.req.param("id")) }),
  );
  app.post("/deliveries/:id/redeliver", async (c) => {
    await ctx.store.webhooks.redeliver(c.req.param("id"), ctx.now());
    return c.json({ queued: true });
  });

  return app;
}
