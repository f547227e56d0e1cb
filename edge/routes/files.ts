/** Signed, expiring downloads for webhook receivers: the raw message and its attachments. */
import { Hono } from "hono";
import { parseMessage } from "../../src/pipeline/parse.ts";
import { verifySignedPath } from "../../src/webhooks/signed-url.ts";
import type { EdgeContext } from "../context.ts";

export function fileRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (!(await verifySignedPath(ctx.urlSigningKey, new URL(c.req.url), ctx.now()))) {
      return c.json({ error: "invalid or expired link" }, 403);
    }
    await next();
  });
  app.get("/:id/raw", async (c) => {
    const raw = await ctx.store.messages.raw(c.req.param("id"));
    if (!raw) return c.json({ error: "no such message" }, 404);
    return new Response(raw as Uint8Array<ArrayBuffer>, { headers: { "content-type": "message/rfc822" } });
  });
  app.get("/:id/attachments/:n", async (c) => {
    const raw = await ctx.store.messages.raw(c.req.param("id"));
    const attachment = raw ? (await parseMessage(raw)).attachments[Number(c.req.param("n"))] : undefined;
    if (!attachment) return c.json({ error: "no such attachment" }, 404);
    const body =
      typeof attachment.content === "string"
        ? new TextEncoder().encode(attachment.content)
        : attachment.content;
    return new Response(body as ArrayBuffer, {
      headers: {
        "content-type": attachment.mimeType,
        "content-disposition": `attachment${attachment.filename ? `; filename="${attachment.filename.replace(/["\\\r\n]/g, "_")}"` : ""}`,
      },
    });
  });
  return app;
}
