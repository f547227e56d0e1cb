/**
 * Who calls the admin API. Over HTTP: a bearer token, either the admin token (everything, as before)
 * or a token scoped to one domain. In-process: the dashboard hands its signed-in principal along with
 * the Request object it built (`withPrincipal`), so its pages run the very same API operations, with
 * the same checks, as any API client.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Principal } from "../src/admin/principal.ts";
import { timingSafeEqualText } from "../src/store/password.ts";
import type { EdgeContext } from "./context.ts";

const principals = new WeakMap<Request, Principal>();

/** Marks a Request built in this process as made by `principal` (the dashboard's API calls). */
export function withPrincipal(req: Request, principal: Principal): Request {
  principals.set(req, principal);
  return req;
}

/** The principal the authentication middleware found for this request. */
export function principalOf(c: Context): Principal {
  const p = principals.get(c.req.raw);
  if (!p) throw new Error("admin API route reached without authentication");
  return p;
}

const unauthorized = (c: Context) =>
  c.json({ error: "unauthorized" }, 401, { "www-authenticate": 'Bearer realm="mxedge-admin"' });

/** Bearer authentication for /api: the admin token, or a live domain-scoped token. */
export function authenticateAdmin(ctx: EdgeContext): MiddlewareHandler {
  return async (c, next) => {
    if (principals.has(c.req.raw)) return next();
    const header = c.req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!given) return unauthorized(c);
    if (ctx.adminToken && timingSafeEqualText(given, ctx.adminToken)) {
      principals.set(c.req.raw, { kind: "admin" });
      return next();
    }
    const token = await ctx.store.access.verifyToken(given, ctx.now());
    if (!token) return unauthorized(c);
    principals.set(c.req.raw, { kind: "domain", domain: token.domain, tokenId: token.id });
    return next();
  };
}
