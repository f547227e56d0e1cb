/**
 * Cloudflare Workers entry: `fetch` serves the edge over D1; `scheduled` is the cron hook
 * (webhook retries and retention arrive with later work).
 */
import "./shims/crypto-digest-names.ts";
import type { Hono } from "hono";
import { type MailService, mailService } from "../src/admin/mail-service.ts";
import { cachedResolver } from "../src/dns/cache.ts";
import { dohResolver } from "../src/dns/doh.ts";
import { parseZone, zoneResolver } from "../src/dns/zone.ts";
import { parseCidrList } from "../src/net/cidr.ts";
import type { AuthPolicy } from "../src/pipeline/auth-stage.ts";
import type { PolicyConfig } from "../src/pipeline/policy-stage.ts";
import { compilePolicy } from "../src/rules/index.ts";
import { DnsblSchema, RuleSchema } from "../src/rules/schema.ts";
import { createStore } from "../src/store/index.ts";
import { deliverDue, type OutboxDeps } from "../src/webhooks/outbox.ts";
import { filesSigningKey } from "../src/webhooks/signed-url.ts";
import { createEdgeApp, type EdgeOptions } from "./app.ts";
import { type D1Database, d1Driver } from "./d1.ts";

export interface Env {
  /** The D1 database (`[[d1_databases]]` binding `DB`), with migrations/ applied. */
  DB: D1Database;
  /** Secret the relay presents (`wrangler secret put RELAY_SECRET`); also signs webhook download links. */
  RELAY_SECRET: string;
  /** Bearer token of the admin API (`wrangler secret put ADMIN_TOKEN`). */
  ADMIN_TOKEN: string;
  /** The MX host name: in Received headers, DNS records, MTA-STS and client autoconfig. */
  MXEDGE_HOSTNAME?: string;
  /** Largest message the edge stores, in bytes (default 25 MiB). */
  MAX_MESSAGE_BYTES?: string;
  /** DNS for SPF/DKIM/DMARC: a static zone (text), else DNS-over-HTTPS at DOH_URL (default Cloudflare). */
  DNS_ZONE?: string;
  /** DNS-over-HTTPS endpoint (JSON API) when DNS_ZONE is unset; default Cloudflare's. */
  DOH_URL?: string;
  /** "tempfail" (451 on DNS trouble) or "accept" (default). */
  AUTH_ON_TEMPERROR?: string;
  /** "false" turns DMARC enforcement off. */
  ENFORCE_DMARC?: string;
  /** Rules as JSON, in the same shape as the config file's [[rules]]. */
  RULES?: string;
  /** DNSBL zones as JSON, the shape of the config file's [[dnsbl]]. */
  DNSBL?: string;
  /** The Worker's public URL, for signed download links in webhook payloads. */
  PUBLIC_URL?: string;
  /** Comma-separated CIDRs webhook targets may be in despite being private. */
  WEBHOOK_ALLOW?: string;
  /** Secret that encrypts DKIM private keys at rest (`wrangler secret put DKIM_KEY`, 16+ characters). */
  DKIM_KEY?: string;
  /** The public submissions (implicit TLS) port, named in autoconfig and SRV records; default 465. */
  SUBMISSIONS_PORT?: string;
  /** The public submission (STARTTLS) port; default 587. */
  SUBMISSION_PORT?: string;
  /** The public IMAPS port; default 993. */
  IMAPS_PORT?: string;
  /** The public IMAP (STARTTLS) port; default 143. */
  IMAP_PORT?: string;
}

function servicePorts(env: Env): Partial<MailService["ports"]> {
  const ports: Partial<MailService["ports"]> = {};
  const set = (key: keyof MailService["ports"], value: string | undefined) => {
    const n = Number(value);
    if (Number.isInteger(n) && n > 0 && n < 65536) ports[key] = n;
  };
  set("submissions", env.SUBMISSIONS_PORT);
  set("submission", env.SUBMISSION_PORT);
  set("imaps", env.IMAPS_PORT);
  set("imap", env.IMAP_PORT);
  return ports;
}

const RuleListSchema = RuleSchema.array();
const DnsblListSchema = DnsblSchema.array();

function outboxDeps(env: Env): OutboxDeps {
  return {
    store: createStore(d1Driver(env.DB)),
    now: Date.now,
    fetch: (input, init) => fetch(input, init),
    publicUrl: env.PUBLIC_URL ?? "https://mxedge.invalid",
    urlSigningKey: filesSigningKey(env.RELAY_SECRET),
    allow: parseCidrList(env.WEBHOOK_ALLOW ? env.WEBHOOK_ALLOW.split(",").map((c) => c.trim()) : []),
    resolver: authPolicy(env).resolver,
  };
}

function policyFrom(env: Env): PolicyConfig {
  const rules = RuleListSchema.parse(env.RULES ? JSON.parse(env.RULES) : []);
  const dnsbl = DnsblListSchema.parse(env.DNSBL ? JSON.parse(env.DNSBL) : []);
  return compilePolicy({ rules, dnsbl });
}

function authPolicy(env: Env): AuthPolicy {
  const resolver = env.DNS_ZONE
    ? zoneResolver(parseZone(env.DNS_ZONE))
    : cachedResolver(
        dohResolver({
          endpoint: env.DOH_URL ?? "https://cloudflare-dns.com/dns-query",
          format: "json",
          timeoutMs: 5000,
        }),
        { ttlMs: 60_000, maxEntries: 5000 },
      );
  return {
    resolver,
    onTempError: env.AUTH_ON_TEMPERROR === "tempfail" ? "tempfail" : "accept",
    enforceDmarc: env.ENFORCE_DMARC !== "false",
  };
}

let cached: { env: Env; app: Hono } | null = null;

/** The edge's options from the Worker's bindings; mxedge() (edge/library) builds on the same. */
export function edgeOptionsFromEnv(env: Env): EdgeOptions {
  const max = Number(env.MAX_MESSAGE_BYTES);
  return {
    store: createStore(d1Driver(env.DB)),
    relaySecret: env.RELAY_SECRET,
    adminToken: env.ADMIN_TOKEN,
    hostname: env.MXEDGE_HOSTNAME,
    maxMessageBytes: Number.isFinite(max) && max > 0 ? max : undefined,
    auth: authPolicy(env),
    policy: policyFrom(env),
    publicUrl: env.PUBLIC_URL,
    dkimSecret: env.DKIM_KEY,
    // Cloudflare sets CF-Connecting-IP; a client cannot: the dashboard's sign-in limit keys on it.
    dashboard: {
      clientAddress: (c) => c.req.header("cf-connecting-ip") ?? null,
      publicHttps: env.PUBLIC_URL?.startsWith("https:") ?? true,
    },
    mailService: mailService({
      hostname: env.MXEDGE_HOSTNAME,
      publicUrl: env.PUBLIC_URL,
      ports: servicePorts(env),
    }),
  };
}

function appFor(env: Env): Hono {
  if (cached?.env !== env) cached = { env, app: createEdgeApp(edgeOptionsFromEnv(env)) };
  return cached.app;
}

export default {
  fetch(request: Request, env: Env, ctx: unknown): Response | Promise<Response> {
    return appFor(env).fetch(request, env, ctx as never);
  },
  /** Cron: deliver due webhooks (retries, and anything the request that stored it did not finish). */
  async scheduled(_controller: unknown, env: Env, _ctx: unknown): Promise<void> {
    await deliverDue(outboxDeps(env));
  },
};
