/**
 * The IMAP store API over HTTP (/relay/v1/imap/...): see src/contract-imap.ts for the routes and shapes.
 * Each route validates its body and calls the same operation the embedded relay calls in-process
 * (edge/imap-api.ts); only the encoding lives here.
 */
import { type Context, Hono } from "hono";
import type { z } from "zod";
import {
  AppendRequestSchema,
  BodiesRequestSchema,
  ChangesRequestSchema,
  CopyRequestSchema,
  ExpungeRequestSchema,
  encodeBodies,
  FetchRequestSchema,
  NameRequestSchema,
  RenameRequestSchema,
  SelectRequestSchema,
  StatusRequestSchema,
  StoreRequestSchema,
  SubscribeRequestSchema,
  UserRequestSchema,
  WatchRequestSchema,
} from "../../src/contract-imap.ts";
import { type ImapStoreApi, imapFailure } from "../imap-api.ts";

export function imapRoutes(api: ImapStoreApi): Hono {
  const app = new Hono();

  /** Parses the body, runs `fn`; refusals become 404/409/400 with the contract's error code. */
  const route = <S extends z.ZodType>(
    path: string,
    schema: S,
    fn: (body: z.infer<S>, c: Context) => Promise<object | Response>,
  ) =>
    app.post(path, async (c: Context) => {
      const parsed = schema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: "bad request" }, 400);
      try {
        const result = await fn(parsed.data, c);
        return result instanceof Response ? result : c.json(result);
      } catch (err) {
        const f = imapFailure(err);
        if (!f) throw err;
        return c.json({ error: f.error, message: f.message }, f.status as 400 | 404 | 409);
      }
    });

  route("/mailboxes", UserRequestSchema, (b) => api.mailboxes(b));
  route("/create", NameRequestSchema, (b) => api.create(b));
  route("/delete", NameRequestSchema, (b) => api.delete(b));
  route("/rename", RenameRequestSchema, (b) => api.rename(b));
  route("/subscribe", SubscribeRequestSchema, (b) => api.subscribe(b));
  route("/status", StatusRequestSchema, (b) => api.status(b));
  route("/select", SelectRequestSchema, (b) => api.select(b));
  route("/changes", ChangesRequestSchema, (b) => api.changes(b));
  route("/fetch", FetchRequestSchema, async (b) => {
    const res = await api.fetch(b);
    if (res.kind === "compact") return res.body;
    if (res.kind === "rows") return { rows: res.rows };
    // Each stored view is already JSON: spliced in as is, it is neither escaped here nor parsed
    // twice by the relay. Only what structureJson() wrote ({"v":1,...}) is spliced.
    const parts = res.rows.map(({ structure, ...meta }) => {
      const head = JSON.stringify({ ...meta, raw: null }).slice(0, -1);
      const ok = structure?.startsWith('{"v":1,') && structure.endsWith("}");
      return `${head},"structure":${ok ? structure : "null"}}`;
    });
    return new Response(`{"rows":[${parts.join(",")}]}`, { headers: { "content-type": "application/json" } });
  });
  route("/store", StoreRequestSchema, (b) => api.store(b));
  route("/expunge", ExpungeRequestSchema, (b) => api.expunge(b));
  route("/quota", UserRequestSchema, (b) => api.quota(b));
  route("/append", AppendRequestSchema, (b) => api.append(b));
  route("/copy", CopyRequestSchema, (b) => api.copy(b));
  // Raw bytes, framed (see encodeBodies): no base64 or JSON around the largest thing IMAP moves.
  route("/bodies", BodiesRequestSchema, async (b, c) =>
    c.body(encodeBodies(await api.bodies(b)) as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
    }),
  );
  route("/watch", WatchRequestSchema, (b) => api.watch(b));

  return app;
}
