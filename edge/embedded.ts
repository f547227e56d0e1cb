/** The edge in this process on a SQLite file: what `mxedge serve` and the admin CLI open. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import type { MailService } from "../src/admin/mail-service.ts";
import type { Cidr } from "../src/net/cidr.ts";
import type { AuthPolicy } from "../src/pipeline/auth-stage.ts";
import type { PolicyConfig } from "../src/pipeline/policy-stage.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { createEdgeApp } from "./app.ts";
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
}

export async function openEmbeddedEdge(opts: {
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
  mailService?: MailService;
  dkimSecret?: string;
}): Promise<EmbeddedEdge> {
  const opened = await openEmbeddedStore(opts.dataDir);
  const app = createEdgeApp({
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
    mailService: opts.mailService,
    dkimSecret: opts.dkimSecret,
  });
  return { ...opened, app };
}
