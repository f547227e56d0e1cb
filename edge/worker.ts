/**
 * Cloudflare Workers entry: `fetch` serves the edge over D1; `scheduled` is the cron hook
 * (webhook retries and retention arrive with later work).
 */
import type { Hono } from "hono";
import { createStore } from "../src/store/index.ts";
import { createEdgeApp } from "./app.ts";
import { type D1Database, d1Driver } from "./d1.ts";

export interface Env {
  DB: D1Database;
  RELAY_SECRET: string;
  ADMIN_TOKEN: string;
  MXEDGE_HOSTNAME?: string;
  MAX_MESSAGE_BYTES?: string;
}

let cached: { env: Env; app: Hono } | null = null;

function appFor(env: Env): Hono {
  if (cached?.env !== env) {
    const max = Number(env.MAX_MESSAGE_BYTES);
    cached = {
      env,
      app: createEdgeApp({
        store: createStore(d1Driver(env.DB)),
        relaySecret: env.RELAY_SECRET,
        adminToken: env.ADMIN_TOKEN,
        hostname: env.MXEDGE_HOSTNAME,
        maxMessageBytes: Number.isFinite(max) && max > 0 ? max : undefined,
      }),
    };
  }
  return cached.app;
}

export default {
  fetch(request: Request, env: Env, ctx: unknown): Response | Promise<Response> {
    return appFor(env).fetch(request, env, ctx as never);
  },
  async scheduled(_controller: unknown, _env: Env, _ctx: unknown): Promise<void> {
    // Nothing is due yet: webhook retries and retention are scheduled here once they exist.
  },
};
