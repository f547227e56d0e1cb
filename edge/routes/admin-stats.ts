/**
 * Admin API: the overview's figures (traffic per hour, webhook success and latency, queues), and the
 * configured rules exactly as the engine evaluates them, with a trial run on a described message.
 */
import { Hono } from "hono";
import { RuleTrial } from "../../src/admin/api-schemas.ts";
import { storeScope } from "../../src/admin/principal.ts";
import type { AuthResults } from "../../src/pipeline/authenticate.ts";
import { describe as describeAction, evaluateRules } from "../../src/rules/engine.ts";
import { HOUR_MS } from "../../src/store/stats.ts";
import { principalOf } from "../admin-auth.ts";
import type { EdgeContext } from "../context.ts";
import { readBody } from "./admin-validate.ts";

/** A trial's results as the rules engine reads them (what authentication would have recorded). */
function trialAuth(t: { spf?: string; dkim?: string; dmarc?: string; clientIp: string }): AuthResults {
  return {
    authservId: "trial",
    spf: { result: t.spf ?? "none", domain: null, clientIp: t.clientIp, helo: null, info: null },
    dkim: t.dkim
      ? [{ result: t.dkim, domain: null, selector: null, algorithm: null, aligned: null, info: null }]
      : [],
    dmarc: t.dmarc
      ? {
          result: t.dmarc,
          policy: null,
          domain: null,
          p: null,
          sp: null,
          alignment: { spf: null, dkim: null, spfStrict: false, dkimStrict: false },
        }
      : null,
    arc: { result: "none", instance: null, info: null },
    tempError: false,
  };
}

export function adminStatsRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();

  app.get("/stats", async (c) => {
    const hours = Math.min(Math.max(Number(c.req.query("hours")) || 24, 1), 24 * 14);
    const scope = storeScope(principalOf(c));
    const now = ctx.now();
    const [traffic, webhooks, queue] = await Promise.all([
      ctx.store.stats.traffic(hours, now, scope),
      ctx.store.stats.webhooks(now - hours * HOUR_MS, scope),
      ctx.store.stats.queue(scope),
    ]);
    return c.json({ hours, now, traffic, webhooks, queue });
  });

  app.get("/rules", (c) =>
    c.json({
      rules: (ctx.policy?.rules ?? []).map((r, i) => ({
        position: i + 1,
        name: r.name,
        // Envelope-only rules are also evaluated at RCPT time (refusals only); all run after DATA.
        stages: r.envelopeOnly ? ["rcpt", "data"] : ["data"],
        match: r.match,
        actions: r.actions.map(describeAction),
      })),
      dnsbl: (ctx.policy?.dnsbl ?? []).map((l) => ({ zone: l.zone })),
    }),
  );

  app.post("/rules/trial", async (c) => {
    const body = await readBody(c, RuleTrial);
    if (!body.ok) return body.response;
    const t = body.data;
    const rules = ctx.policy?.rules ?? [];
    const envelope = {
      rcptTo: [t.rcptTo],
      mailFrom: t.mailFrom,
      clientIp: t.clientIp,
      helo: t.helo,
      authUser: null,
      dnsbl: null,
    };
    const rcpt = evaluateRules(rules, envelope, "rcpt");
    const data = evaluateRules(
      rules,
      {
        ...envelope,
        headerFrom: t.headerFrom ? [t.headerFrom] : [t.mailFrom],
        headers: [],
        size: t.size,
        auth: trialAuth(t),
      },
      "data",
    );
    return c.json({ rcpt, data });
  });

  return app;
}
