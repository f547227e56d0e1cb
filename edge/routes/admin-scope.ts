/**
 * The admin API's scope checks, run before its routes: a domain admin may do only what concerns their
 * domain. An operation only the admin may do answers 403; a domain, user, alias, message or delivery
 * outside the scope answers 404, exactly as if it did not exist, so nothing of it is ever shown.
 * Listings are filtered by the routes themselves (see storeScope).
 */
import { eq } from "drizzle-orm";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { domainOf, mayManageDomain, storeScope } from "../../src/admin/principal.ts";
import { messageInScope } from "../../src/store/message-search.ts";
import { webhookDeliveries } from "../../src/store/schema.ts";
import { principalOf } from "../admin-auth.ts";
import type { EdgeContext } from "../context.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

const forbidden = (c: Context) => c.json({ error: "forbidden: this needs the admin token" }, 403);
const notFound = (c: Context, what: string) => c.json({ error: `no such ${what}` }, 404);

/** Only the admin, for these methods (all when none are named). */
function adminOnly(...methods: Method[]): MiddlewareHandler {
  return async (c, next) => {
    if (methods.length > 0 && !methods.includes(c.req.method as Method)) return next();
    return principalOf(c).kind === "admin" ? next() : forbidden(c);
  };
}

/** The route's `param` names a domain (or an address in one) the principal must manage. */
function inScope(param: string, what: string, toDomain: (value: string) => string): MiddlewareHandler {
  return async (c, next) => {
    const value = c.req.param(param) ?? "";
    return mayManageDomain(principalOf(c), toDomain(value)) ? next() : notFound(c, what);
  };
}

/** A JSON body's address fields must all be in the principal's domain (alias targets too). */
const bodyAddressesInScope: MiddlewareHandler = async (c, next) => {
  if (c.req.method !== "POST") return next();
  const p = principalOf(c);
  if (p.kind === "admin") return next();
  let body: unknown;
  try {
    body = JSON.parse((await c.req.text()) || "{}");
  } catch {
    return next(); // the route answers the malformed body with its own 400
  }
  const b = (body ?? {}) as { address?: unknown; targets?: unknown };
  const addresses = [b.address, ...(Array.isArray(b.targets) ? b.targets : [])].filter(
    (a): a is string => typeof a === "string",
  );
  if (addresses.some((a) => !mayManageDomain(p, domainOf(a)))) {
    return c.json(
      { error: `forbidden: addresses must be in ${p.kind === "domain" ? p.domain : "your domain"}` },
      403,
    );
  }
  return next();
};

export function adminScopeGuards(ctx: EdgeContext): Hono {
  const g = new Hono();
  // Mailbox users use /api/me only (see admin-me.ts, mounted before these guards).
  g.use("*", async (c, next) => (principalOf(c).kind === "user" ? forbidden(c) : next()));

  g.use("/domains", adminOnly("POST"));
  g.use("/domains/:domain", adminOnly("DELETE"));
  g.use("/users/import", adminOnly());
  g.use("/webhooks", adminOnly("POST"));
  g.use("/webhooks/:name/test", adminOnly());
  g.use("/tokens", adminOnly());
  g.use("/tokens/*", adminOnly());
  g.use("/rules", adminOnly());
  g.use("/rules/*", adminOnly());

  const domain = inScope("domain", "domain", (d) => d);
  g.use("/domains/:domain", domain);
  g.use("/domains/:domain/*", domain);
  const user = inScope("login", "user", domainOf);
  g.use("/users/:login", user);
  g.use("/users/:login/*", user);
  g.use("/aliases/:address", inScope("address", "alias", domainOf));
  g.use("/users", bodyAddressesInScope);
  g.use("/aliases", bodyAddressesInScope);

  const message: MiddlewareHandler = async (c, next) => {
    const p = principalOf(c);
    if (p.kind === "admin") return next();
    const ok = await messageInScope(ctx.store.db, c.req.param("id") ?? "", storeScope(p));
    return ok ? next() : notFound(c, "message");
  };
  g.use("/messages/:id", message);
  g.use("/messages/:id/*", message);
  g.use("/deliveries/:id/*", async (c, next) => {
    const p = principalOf(c);
    if (p.kind === "admin") return next();
    const row = await ctx.store.db
      .select({ ingestId: webhookDeliveries.ingestId })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, c.req.param("id") ?? ""))
      .get();
    const ok = row && (await messageInScope(ctx.store.db, row.ingestId, storeScope(p)));
    return ok ? next() : notFound(c, "delivery");
  });
  return g;
}
