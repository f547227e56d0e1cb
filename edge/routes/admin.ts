/** The admin API (/api/...): the admin token sees everything, a domain-scoped token one domain (admin-scope.ts). */
import { Hono } from "hono";
import { fieldIssues } from "../../src/admin/api-schemas.ts";
import { scopeDomain, storeScope } from "../../src/admin/principal.ts";
import { parseMessage } from "../../src/pipeline/parse.ts";
import { StoreError } from "../../src/store/index.ts";
import { endpointInput, WebhookConfigSchema } from "../../src/webhooks/config.ts";
import { webhookPayloadJsonSchema } from "../../src/webhooks/payload.ts";
import { postSigned } from "../../src/webhooks/post.ts";
import { webhookRequest } from "../../src/webhooks/request.ts";
import { checkUrl } from "../../src/webhooks/ssrf.ts";
import { authenticateAdmin, principalOf } from "../admin-auth.ts";
import type { EdgeContext } from "../context.ts";
import { adminAccessRoutes } from "./admin-access.ts";
import { adminDirectoryRoutes } from "./admin-directory.ts";
import { adminDnsRoutes } from "./admin-dns.ts";
import { adminMeRoutes } from "./admin-me.ts";
import { messageRoutes } from "./admin-messages.ts";
import { adminScopeGuards } from "./admin-scope.ts";
import { adminStatsRoutes } from "./admin-stats.ts";

/** The message a `webhook test` delivers: small, obviously synthetic, never stored. */
const TEST_MESSAGE = new TextEncoder().encode(
  "From: mxedge <postmaster@mxedge.invalid>\r\nTo: webhook-test@mxedge.invalid\r\nSubject: mxedge webhook test\r\nMessage-ID: <webhook-test@mxedge.invalid>\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\nThis is a test delivery from mxedge.\r\n",
);

export function adminRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof StoreError) {
      const status = err.code === "exists" ? 409 : err.code === "not-found" ? 404 : 400;
      return c.json({ error: err.message }, status);
    }
    throw err;
  });

  // Who is calling (admin token, domain token, or the dashboard in-process), then what they may do.
  app.use("*", authenticateAdmin(ctx));
  app.route("/me", adminMeRoutes(ctx));
  app.route("/", adminScopeGuards(ctx));

  messageRoutes(app, ctx, "/messages");
  app.route("/", adminDirectoryRoutes(ctx));
  app.route("/", adminDnsRoutes(ctx));
  app.route("/", adminAccessRoutes(ctx));
  app.route("/", adminStatsRoutes(ctx));

  app.get("/webhooks", async (c) => {
    const domain = scopeDomain(principalOf(c));
    const endpoints = (await ctx.store.webhooks.listEndpoints()).filter(
      // A domain admin sees the endpoints that get only their domain's mail.
      (e) => !domain || (e.filters.domains?.length === 1 && e.filters.domains[0]?.toLowerCase() === domain),
    );
    return c.json({ webhooks: endpoints.map(({ secret: _secret, ...e }) => e) });
  });
  app.post("/webhooks", async (c) => {
    const body = WebhookConfigSchema.safeParse(await c.req.json().catch(() => null));
    if (!body.success) {
      const issues = fieldIssues(body.error);
      return c.json({ error: issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues }, 400);
    }
    const target = checkUrl(body.data.url, ctx.webhookAllow);
    if (!target.ok)
      return c.json(
        { error: `url: ${target.reason}`, issues: [{ path: "url", message: target.reason }] },
        400,
      );
    const { secret: _secret, ...endpoint } = await ctx.store.webhooks.upsertEndpoint(
      endpointInput(body.data),
    );
    return c.json(endpoint, 201);
  });
  app.post("/webhooks/:name/test", async (c) => {
    const endpoint = (await ctx.store.webhooks.listEndpoints()).find((e) => e.name === c.req.param("name"));
    if (!endpoint) return c.json({ error: `no webhook ${c.req.param("name")}` }, 404);
    const id = `test_${crypto.randomUUID()}`;
    const request = await webhookRequest(
      endpoint,
      {
        id,
        receivedAt: ctx.now(),
        raw: TEST_MESSAGE,
        email: await parseMessage(TEST_MESSAGE),
        envelope: { mailFrom: "postmaster@mxedge.invalid", rcptTo: ["webhook-test@mxedge.invalid"] },
        connection: { clientIp: "127.0.0.1", helo: "localhost", tls: false },
        auth: null,
        rules: [],
      },
      null,
    );
    const webhooks = ctx.webhooks;
    if (!webhooks) return c.json({ error: "webhooks are not configured on this edge" }, 503);
    const result = await postSigned(endpoint, id, request.body, request.headers, webhooks);
    return c.json({
      name: endpoint.name,
      url: endpoint.url,
      ...result,
      ok: result.status !== null && result.status < 300,
    });
  });
  app.get("/webhooks/schema.json", (c) => c.json(webhookPayloadJsonSchema() as Record<string, unknown>));
  app.get("/deliveries", async (c) => {
    const state = c.req.query("state");
    const states = ["pending", "delivered", "failed", "dead"] as const;
    const deliveries = await ctx.store.webhooks.listDeliveries({
      state: states.find((s) => s === state),
      ingestId: c.req.query("message"),
      ...storeScope(principalOf(c)),
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
