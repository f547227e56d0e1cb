/**
 * The edge as a Hono app. It takes every dependency as an argument (store, secrets, clock), so the
 * same app runs on Workers + D1, in-process under Node/Deno + SQLite, and inside a user's own Worker.
 */
import { Hono } from "hono";
import { type MailService, mailService } from "../src/admin/mail-service.ts";
import { openApiDocument } from "../src/admin/openapi.ts";
import type { Cidr } from "../src/net/cidr.ts";
import type { AuthPolicy } from "../src/pipeline/auth-stage.ts";
import type { EmailHandlerHook } from "../src/pipeline/handler-stage.ts";
import type { PolicyConfig } from "../src/pipeline/policy-stage.ts";
import type { Store } from "../src/store/index.ts";
import { filesSigningKey } from "../src/webhooks/signed-url.ts";
import { requireBearer } from "./bearer.ts";
import type { EdgeContext } from "./context.ts";
import { type DashboardOptions, dashboardRoutes } from "./dashboard/index.ts";
import { imapStoreApi } from "./imap-api.ts";
import { adminRoutes } from "./routes/admin.ts";
import { fileRoutes } from "./routes/files.ts";
import { imapRoutes } from "./routes/imap.ts";
import { relayRoutes } from "./routes/relay.ts";
import { wellKnownRoutes } from "./routes/well-known.ts";

export const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

export interface EdgeOptions {
  store: Store;
  relaySecret: string;
  adminToken: string;
  hostname?: string;
  maxMessageBytes?: number;
  /** IMAP QUOTA default per user in bytes (users.quota_bytes overrides); null or absent = unlimited. */
  quotaBytes?: number | null;
  now?: () => number;
  /** SPF/DKIM/DMARC/ARC: the DNS resolver and what to do with the results. */
  auth?: AuthPolicy;
  /** Compiled rules and DNSBL lists. */
  policy?: PolicyConfig;
  /** Key for signed webhook download links; derived from the relay secret when absent. */
  urlSigningKey?: string;
  /** CIDRs webhook targets may be in despite being private. */
  webhookAllow?: Cidr[];
  /** The edge's public base URL, for signed download links in webhook payloads. */
  publicUrl?: string;
  /** How webhooks are posted (default: global fetch). */
  webhookFetch?: typeof fetch;
  /** The user's email() handler (see edge/library): runs after the rules, before store. */
  handler?: EmailHandlerHook;
  /** Host names and public ports for DNS records, MTA-STS and autoconfig (default: hostname, standard ports). */
  mailService?: MailService;
  /** Secret that encrypts DKIM private keys at rest (Worker secret DKIM_KEY, MXEDGE_DKIM_KEY). */
  dkimSecret?: string;
  /** The dashboard at /dashboard: client address for its sign-in limit, limits, cookie security. */
  dashboard?: DashboardOptions;
  /** Where internal errors are reported; defaults to console.error. */
  onError?: (err: unknown) => void;
}

/** What every route (and the in-process relay API) runs with, from the options. */
export function edgeContext(options: EdgeOptions): EdgeContext {
  const ctx: EdgeContext = {
    store: options.store,
    relaySecret: options.relaySecret,
    adminToken: options.adminToken,
    hostname: options.hostname ?? "mxedge.invalid",
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    quotaBytes: options.quotaBytes ?? null,
    now: options.now ?? Date.now,
    auth: options.auth,
    policy: options.policy,
    urlSigningKey: options.urlSigningKey ?? filesSigningKey(options.relaySecret),
    webhookAllow: options.webhookAllow ?? [],
    handler: options.handler,
    mailService:
      options.mailService ?? mailService({ hostname: options.hostname, publicUrl: options.publicUrl }),
    dkimSecret: options.dkimSecret,
  };
  ctx.webhooks = {
    fetch: options.webhookFetch ?? ((input, init) => fetch(input, init)),
    now: ctx.now,
    allow: ctx.webhookAllow,
    resolver: options.auth?.resolver,
    publicUrl: options.publicUrl ?? "http://localhost:8787",
    urlSigningKey: ctx.urlSigningKey,
  };
  return ctx;
}

/** The edge's Hono app; `ctx` when the caller also uses the context in-process (edge/embedded.ts). */
export function createEdgeApp(options: EdgeOptions, ctx: EdgeContext = edgeContext(options)): Hono {
  const report = options.onError ?? ((err: unknown) => console.error("edge error:", err));

  const app = new Hono();
  app.onError((err, c) => {
    report(err);
    // Never a 2xx on an internal failure: the relay turns this into 451 4.3.0 and the sender retries.
    return c.json(
      {
        error: "internal error",
        reply: { code: 451, enhanced: "4.3.0", message: "Temporary failure, please retry" },
      },
      500,
    );
  });
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.use(
    "/relay/*",
    requireBearer(() => ctx.relaySecret, "mxedge-relay"),
  );
  app.route(
    "/relay/v1/imap",
    imapRoutes(
      imapStoreApi({
        store: ctx.store,
        maxMessageBytes: ctx.maxMessageBytes,
        quotaBytes: ctx.quotaBytes ?? null,
      }),
    ),
  );
  app.route("/relay/v1", relayRoutes(ctx));
  app.route("/files", fileRoutes(ctx));
  app.route("/", wellKnownRoutes(ctx));
  app.get("/api/openapi.json", (c) => c.json(openApiDocument()));
  // Authentication (admin token or a domain-scoped token) is part of the admin routes: the dashboard
  // calls the same routes in-process, as its signed-in principal.
  const api = adminRoutes(ctx);
  app.route("/api", api);
  app.route("/dashboard", dashboardRoutes(ctx, api, options.dashboard));
  return app;
}
