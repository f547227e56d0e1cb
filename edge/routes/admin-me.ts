/**
 * /api/me: what a mailbox user signed in to the dashboard may do, about themselves only: read their
 * messages and verdicts, change their password. (Forwarding and spam settings join here when those
 * stages exist: issues 20 and 22.)
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { PasswordChange } from "../../src/admin/api-schemas.ts";
import type { Principal } from "../../src/admin/principal.ts";
import { principalOf } from "../admin-auth.ts";
import type { EdgeContext } from "../context.ts";
import { messageRoutes } from "./admin-messages.ts";
import { readBody } from "./admin-validate.ts";

const OwnPasswordChange = PasswordChange.extend({ current: z.string().min(1).max(1024) });

type UserPrincipal = Extract<Principal, { kind: "user" }>;

function user(c: Context): UserPrincipal | null {
  const p = principalOf(c);
  return p.kind === "user" ? p : null;
}

export function adminMeRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();
  app.use("*", async (c, next) =>
    user(c) ? next() : c.json({ error: "forbidden: /api/me is for a signed-in mailbox user" }, 403),
  );
  app.get("/", (c) => c.json({ login: (user(c) as UserPrincipal).login }));
  messageRoutes(app, ctx, "/messages");
  app.put("/password", async (c) => {
    const me = user(c) as UserPrincipal;
    const body = await readBody(c, OwnPasswordChange);
    if (!body.ok) return body.response;
    if (!(await ctx.store.directory.authenticate(me.login, body.data.current)))
      return c.json(
        { error: "current: wrong password", issues: [{ path: "current", message: "wrong password" }] },
        400,
      );
    return c.json(await ctx.store.directory.setPassword(me.login, body.data.password));
  });
  return app;
}
