/**
 * Admin API: message search, one message, its raw source. The same handlers serve /api/messages
 * (admin and domain admins) and /api/me/messages (a mailbox user's own), each limited to the caller's
 * scope: a message outside it answers 404.
 */
import type { Context, Hono } from "hono";
import { fieldIssues, MessageListQuery } from "../../src/admin/api-schemas.ts";
import { storeScope } from "../../src/admin/principal.ts";
import { messageInScope, searchMessages, type VerdictCheck } from "../../src/store/message-search.ts";
import { principalOf } from "../admin-auth.ts";
import type { EdgeContext } from "../context.ts";

export function messageRoutes(app: Hono, ctx: EdgeContext, base: string): void {
  const inScope = async (c: Context, id: string) => {
    const p = principalOf(c);
    return p.kind === "admin" || (await messageInScope(ctx.store.db, id, storeScope(p)));
  };

  app.get(base, async (c) => {
    const q = MessageListQuery.safeParse(c.req.query());
    if (!q.success) {
      const issues = fieldIssues(q.error);
      return c.json({ error: issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues }, 400);
    }
    const { verdict, since, until, ...rest } = q.data;
    const [check, result] = verdict ? verdict.split(":") : [];
    const messages = await searchMessages(ctx.store.db, {
      ...rest,
      since: since === "" ? undefined : since,
      until: until === "" ? undefined : until,
      verdict: check && result ? { check: check as VerdictCheck, result } : undefined,
      ...storeScope(principalOf(c)),
    });
    return c.json({ messages });
  });

  app.get(`${base}/:id`, async (c) => {
    const id = c.req.param("id");
    const message = (await inScope(c, id)) ? await ctx.store.messages.get(id) : null;
    return message ? c.json(message) : c.json({ error: "no such message" }, 404);
  });

  app.get(`${base}/:id/raw`, async (c) => {
    const id = c.req.param("id");
    const raw = (await inScope(c, id)) ? await ctx.store.messages.raw(id) : null;
    if (!raw) return c.json({ error: "no such message" }, 404);
    return new Response(raw as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": "message/rfc822",
        "content-disposition": `attachment; filename="${id.replace(/[^\w.-]/g, "_")}.eml"`,
      },
    });
  });
}
