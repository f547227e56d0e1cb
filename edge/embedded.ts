/** The edge in this process on a SQLite file: what `mxedge serve` and the admin CLI open. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Context, Hono } from "hono";
import type { MailService } from "../src/admin/mail-service.ts";
import type { Config } from "../src/config.ts";
import { type Cidr, parseCidrList } from "../src/net/cidr.ts";
import type { AuthPolicy } from "../src/pipeline/auth-stage.ts";
import type { EmailHandlerHook } from "../src/pipeline/handler-stage.ts";
import type { PolicyConfig } from "../src/pipeline/policy-stage.ts";
import { compilePolicy } from "../src/rules/index.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { createEdgeApp, type EdgeOptions, edgeContext } from "./app.ts";
import type { DashboardOptions } from "./dashboard/index.ts";
import { resolverFromConfig } from "./dns-config.ts";
import { type ImapStoreApi, imapStoreApi } from "./imap-api.ts";
import { type RelayApi, relayApi } from "./relay-api.ts";
import { migrateSqlite, openSqlite } from "./sqlite.ts";

export interface EmbeddedStore {
  store: Store;
  /** Migrations applied by this open (empty when the database was current). */
  migrated: string[];
  path: string;
  close(): void;
}

export async function openEmbeddedStore(dataDir: string): Promise<EmbeddedStore> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, "mxedge.db");
  const handle = openSqlite(path);
  const migrated = await migrateSqlite(handle);
  return { store: createStore(handle.driver), migrated, path, close: handle.close };
}

export interface EmbeddedEdge extends EmbeddedStore {
  app: Hono;
  /** The IMAP store API's operations, for the relay in this process (relay/imap-local.ts). */
  imap: ImapStoreApi;
  /** The relay API's operations (RCPT, AUTH, ingest), for the relay in this process (relay/edge-local.ts). */
  relay: RelayApi;
}

export interface EmbeddedEdgeOptions {
  dataDir: string;
  hostname: string;
  relaySecret: string;
  adminToken: string;
  maxMessageBytes: number;
  quotaBytes?: number | null;
  auth?: AuthPolicy;
  policy?: PolicyConfig;
  webhookAllow?: Cidr[];
  publicUrl?: string;
  handler?: EmailHandlerHook;
  mailService?: MailService;
  dkimSecret?: string;
  dashboard?: DashboardOptions;
}

/** The client's address under @hono/node-server (its bindings carry the Node request's socket). */
function socketAddress(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress ?? null;
  return address?.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * The embedded edge's options from the config file, as `serve` and its edge thread both open it
 * (the admin options — mail service, DKIM secret — are added by `serve`; the thread only ingests).
 */
export function embeddedEdgeOptions(
  config: Config,
  dataDir: string,
  secrets: { relaySecret: string; adminToken: string },
): EmbeddedEdgeOptions {
  return {
    dataDir,
    hostname: config.hostname,
    relaySecret: secrets.relaySecret,
    adminToken: secrets.adminToken,
    maxMessageBytes: config.limits.maxMessageBytes,
    quotaBytes: config.limits.quotaBytes,
    auth: config.auth.enabled
      ? {
          resolver: resolverFromConfig(config.dns),
          onTempError: config.auth.onTempError,
          enforceDmarc: config.auth.enforceDmarc,
        }
      : undefined,
    policy: compilePolicy(config),
    webhookAllow: parseCidrList(config.webhookAllow),
    publicUrl: config.publicUrl ?? `http://${config.http.host}:${config.http.port}`,
    dashboard: {
      clientAddress: socketAddress,
      // Sign-in failures count like SMTP AUTH and IMAP LOGIN failures, with the same limits.
      signInLimits: config.limits,
      publicHttps: config.publicUrl?.startsWith("https:") ?? false,
    },
  };
}

export async function openEmbeddedEdge(opts: EmbeddedEdgeOptions): Promise<EmbeddedEdge> {
  const opened = await openEmbeddedStore(opts.dataDir);
  const options: EdgeOptions = {
    store: opened.store,
    hostname: opts.hostname,
    relaySecret: opts.relaySecret,
    adminToken: opts.adminToken,
    maxMessageBytes: opts.maxMessageBytes,
    quotaBytes: opts.quotaBytes,
    auth: opts.auth,
    policy: opts.policy,
    webhookAllow: opts.webhookAllow,
    publicUrl: opts.publicUrl,
    handler: opts.handler,
    mailService: opts.mailService,
    dkimSecret: opts.dkimSecret,
    dashboard: opts.dashboard,
  };
  const ctx = edgeContext(options);
  const app = createEdgeApp(options, ctx);
  const imap = imapStoreApi({
    store: opened.store,
    maxMessageBytes: opts.maxMessageBytes,
    quotaBytes: opts.quotaBytes ?? null,
  });
  return { ...opened, app, imap, relay: relayApi(ctx) };
}
