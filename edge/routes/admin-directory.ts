/** Admin API: domains, users (incl. Dovecot import) and aliases. */
import { Hono } from "hono";
import {
  AliasCreate,
  DomainCreate,
  DomainUpdate,
  PasswordChange,
  UserCreate,
  UserImport,
} from "../../src/admin/api-schemas.ts";
import { DomainSettingsSchema, domainSettings } from "../../src/admin/domain-settings.ts";
import { parseDovecotPasswd } from "../../src/admin/dovecot-passwd.ts";
import { domainOf, mayManageDomain, scopeDomain } from "../../src/admin/principal.ts";
import { StoreError } from "../../src/store/index.ts";
import { principalOf } from "../admin-auth.ts";
import type { EdgeContext } from "../context.ts";
import { readBody } from "./admin-validate.ts";

export function adminDirectoryRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();
  const dir = ctx.store.directory;

  app.get("/domains", async (c) => {
    const p = principalOf(c);
    return c.json({ domains: (await dir.listDomains()).filter((d) => mayManageDomain(p, d.name)) });
  });
  app.post("/domains", async (c) => {
    const body = await readBody(c, DomainCreate);
    if (!body.ok) return body.response;
    return c.json(await dir.addDomain(body.data.name), 201);
  });
  app.get("/domains/:domain", async (c) => {
    const d = await dir.getDomain(c.req.param("domain"));
    return c.json({ ...d, settings: domainSettings(d.settings) });
  });
  app.patch("/domains/:domain", async (c) => {
    const body = await readBody(c, DomainUpdate);
    if (!body.ok) return body.response;
    const current = domainSettings((await dir.getDomain(c.req.param("domain"))).settings);
    const { plusAddressing, ...changes } = body.data;
    const settings = DomainSettingsSchema.parse({
      mtaSts: { ...current.mtaSts, ...changes.mtaSts },
      dmarc: { ...current.dmarc, ...changes.dmarc },
      tlsRpt: { ...current.tlsRpt, ...changes.tlsRpt },
    });
    const d = await dir.updateDomain(c.req.param("domain"), { plusAddressing, settings });
    return c.json({ ...d, settings: domainSettings(d.settings) });
  });
  app.delete("/domains/:domain", async (c) => c.json(await dir.removeDomain(c.req.param("domain"))));

  app.get("/users", async (c) => {
    const p = principalOf(c);
    return c.json({ users: (await dir.listUsers()).filter((u) => mayManageDomain(p, domainOf(u.login))) });
  });
  app.post("/users", async (c) => {
    const body = await readBody(c, UserCreate);
    if (!body.ok) return body.response;
    return c.json(await dir.addUser(body.data.address, body.data.password), 201);
  });
  app.post("/users/import", async (c) => {
    const body = await readBody(c, UserImport);
    if (!body.ok) return body.response;
    const imported: Array<{ line: number; login: string }> = [];
    const errors: Array<{ line: number; message: string }> = [];
    // One user at a time, each in its own atomic batch: a bad line writes nothing and the rest go on.
    for (const entry of parseDovecotPasswd(body.data.text)) {
      if ("error" in entry) {
        errors.push({ line: entry.line, message: entry.error });
        continue;
      }
      try {
        const u = await dir.importUser(entry.login, entry.hash);
        imported.push({ line: entry.line, login: u.login });
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        errors.push({ line: entry.line, message: err.message });
      }
    }
    return c.json({ imported, errors });
  });
  app.put("/users/:login/password", async (c) => {
    const body = await readBody(c, PasswordChange);
    if (!body.ok) return body.response;
    return c.json(await dir.setPassword(c.req.param("login"), body.data.password));
  });
  app.delete("/users/:login", async (c) => c.json(await dir.removeUser(c.req.param("login"))));

  app.get("/aliases", async (c) => {
    const p = principalOf(c);
    const asked = c.req.query("domain") || undefined;
    if (asked && !mayManageDomain(p, asked)) return c.json({ aliases: [] });
    return c.json({ aliases: await dir.listAliases(asked ?? scopeDomain(p)) });
  });
  app.post("/aliases", async (c) => {
    const body = await readBody(c, AliasCreate);
    if (!body.ok) return body.response;
    return c.json(await dir.addAlias(body.data.address, body.data.targets), 201);
  });
  app.delete("/aliases/:address", async (c) => c.json(await dir.removeAlias(c.req.param("address"))));

  return app;
}
