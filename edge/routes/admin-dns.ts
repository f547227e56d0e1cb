/** Admin API: DKIM keys, the DNS records a domain needs, and the check of live DNS against them. */
import { Hono } from "hono";
import { DkimCreate, DkimRotate } from "../../src/admin/api-schemas.ts";
import { DkimKeys } from "../../src/admin/dkim-store.ts";
import { checkRecords, expectedRecords, renderZone } from "../../src/admin/dns-records.ts";
import { domainSettings } from "../../src/admin/domain-settings.ts";
import type { EdgeContext } from "../context.ts";
import { readBody } from "./admin-validate.ts";

export function adminDnsRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();
  const keys = new DkimKeys(ctx.store.db, ctx.dkimSecret, ctx.now);

  const records = async (name: string) => {
    const domain = await ctx.store.directory.getDomain(name);
    const dkim = await keys.list(domain.name);
    return {
      domain: domain.name,
      records: await expectedRecords(domain.name, domainSettings(domain.settings), ctx.mailService, dkim),
    };
  };

  app.get("/domains/:domain/dkim", async (c) => c.json({ keys: await keys.list(c.req.param("domain")) }));
  app.post("/domains/:domain/dkim", async (c) => {
    const body = await readBody(c, DkimCreate);
    if (!body.ok) return body.response;
    const domain = (await ctx.store.directory.getDomain(c.req.param("domain"))).name;
    return c.json(await keys.generate(domain, body.data.algorithm, body.data.selector), 201);
  });
  app.post("/domains/:domain/dkim/rotate", async (c) => {
    const body = await readBody(c, DkimRotate);
    if (!body.ok) return body.response;
    const domain = (await ctx.store.directory.getDomain(c.req.param("domain"))).name;
    return c.json(await keys.rotate(domain, body.data.algorithm, body.data.selector));
  });
  app.delete("/domains/:domain/dkim/:selector", async (c) => {
    const domain = (await ctx.store.directory.getDomain(c.req.param("domain"))).name;
    return c.json(await keys.remove(domain, c.req.param("selector")));
  });

  app.get("/domains/:domain/dns", async (c) => {
    const { domain, records: list } = await records(c.req.param("domain"));
    return c.json({ domain, records: list, zone: renderZone(domain, list, ctx.mailService) });
  });
  app.get("/domains/:domain/dns/check", async (c) => {
    const { domain, records: list } = await records(c.req.param("domain"));
    const resolver = ctx.auth?.resolver;
    if (!resolver) return c.json({ error: "this edge has no DNS resolver configured" }, 503);
    const results = await checkRecords(list, resolver);
    return c.json({ domain, ok: results.every((r) => r.status === "ok"), results });
  });

  return app;
}
