/**
 * `mxedge({ email, rules, routes })`: the edge as a Workers module you deploy with your own wrangler.toml
 * and D1 binding. The same module runs embedded: `mxedge serve --handler ./my-handler.ts`.
 *
 *   import { mxedge } from "mxedge/edge";
 *   export default mxedge({
 *     async email(message, env, ctx) {
 *       if (message.auth.dmarc?.result === "fail") message.setReject("DMARC failed");
 *     },
 *   });
 */
import type { Hono } from "hono";
import { parseCidrList } from "../../src/net/cidr.ts";
import { compilePolicy } from "../../src/rules/index.ts";
import { DnsblSchema, RuleSchema } from "../../src/rules/schema.ts";
import { createEdgeApp } from "../app.ts";
import edgeWorker, { edgeOptionsFromEnv } from "../worker.ts";
import { loadHandler, OPTIONS } from "./handler-module.ts";
import type { MxedgeEnv, MxedgeOptions, MxedgeWorker } from "./types.ts";

const RuleList = RuleSchema.array();
const DnsblList = DnsblSchema.array();

function jsonList(text: string | undefined): unknown[] {
  return text ? (JSON.parse(text) as unknown[]) : [];
}

/**
 * `E` is your Worker's Env (e.g. from `wrangler types`); whatever you call it, mxedge reads the bindings
 * in MxedgeEnv from it (DB, RELAY_SECRET, ADMIN_TOKEN, …).
 */
export function mxedge<E = MxedgeEnv>(options: MxedgeOptions<E> = {}): MxedgeWorker<E> {
  // Checked now, so a bad rule fails at start-up rather than on the first message.
  const rules = RuleList.parse(options.rules ?? []);
  const dnsbl = DnsblList.parse(options.dnsbl ?? []);
  let cached: { env: E; app: Hono } | null = null;

  const appFor = (userEnv: E): Hono => {
    if (cached?.env === userEnv) return cached.app;
    const env = userEnv as unknown as MxedgeEnv;
    const loaded = loadHandler({ [OPTIONS]: options }, { env, timeoutEnv: env.MXEDGE_HANDLER_TIMEOUT_MS });
    const app = createEdgeApp({
      ...edgeOptionsFromEnv(env),
      // Rules from mxedge({ rules }) first, then the RULES variable's.
      policy: compilePolicy({
        rules: [...rules, ...RuleList.parse(jsonList(env.RULES))],
        dnsbl: [...dnsbl, ...DnsblList.parse(jsonList(env.DNSBL))],
      }),
      webhookAllow: parseCidrList(env.WEBHOOK_ALLOW ? env.WEBHOOK_ALLOW.split(",").map((c) => c.trim()) : []),
      handler: loaded.hook,
    });
    options.routes?.(app);
    cached = { env: userEnv, app };
    return app;
  };

  const worker: MxedgeWorker<E> = {
    async fetch(request, env, ctx) {
      return appFor(env).fetch(request, env, ctx as never);
    },
    async scheduled(controller, env, ctx) {
      // The stock Worker's cron work (webhook outbox, and whatever else it gains), then the user's.
      await edgeWorker.scheduled(controller, env as unknown as MxedgeEnv, ctx);
      await options.scheduled?.(controller, env, ctx);
    },
  };
  // Not enumerable: the Workers runtime only sees fetch and scheduled; `mxedge serve --handler` finds it.
  Object.defineProperty(worker, OPTIONS, { value: options, enumerable: false });
  return worker;
}
