/** Admin API: domain-scoped API tokens (admin only; see admin-scope.ts). */
import { Hono } from "hono";
import { TokenCreate } from "../../src/admin/api-schemas.ts";
import type { EdgeContext } from "../context.ts";
import { readBody } from "./admin-validate.ts";

export function adminAccessRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();
  const access = ctx.store.access;

  app.get("/tokens", async (c) => c.json({ tokens: await access.listTokens() }));
  app.post("/tokens", async (c) => {
    const body = await readBody(c, TokenCreate);
    if (!body.ok) return body.response;
    const domain = (await ctx.store.directory.getDomain(body.data.domain)).name;
    return c.json(await access.createToken(body.data.name, domain), 201);
  });
  app.delete("/tokens/:id", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id)) return c.json({ error: "no such token" }, 404);
    return c.json(await access.removeToken(id));
  });
  return app;
}
