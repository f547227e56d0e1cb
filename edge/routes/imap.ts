/** The IMAP store API (/relay/v1/imap/...): see src/contract-imap.ts for the routes and shapes. */
import { type Context, Hono } from "hono";
import type { z } from "zod";
import {
  AppendRequestSchema,
  type AppendResponse,
  BodiesRequestSchema,
  ChangesRequestSchema,
  type ChangesResponse,
  type CompactFetchResponse,
  CopyRequestSchema,
  type CopyResponse,
  ExpungeRequestSchema,
  type ExpungeResponse,
  encodeBodies,
  FetchRequestSchema,
  type FetchRow,
  type MailboxInfo,
  type MailboxStatus,
  NameRequestSchema,
  type QuotaResponse,
  RenameRequestSchema,
  SelectRequestSchema,
  type SelectResponse,
  StatusRequestSchema,
  StoreRequestSchema,
  type StoreResponse,
  SubscribeRequestSchema,
  UserRequestSchema,
  WatchRequestSchema,
  type WatchResponse,
} from "../../src/contract-imap.ts";
import { fromBase64, toBase64 } from "../../src/imap/base64.ts";
import { formatSet, parseSequenceSet } from "../../src/imap/sequence.ts";
import { StoreError } from "../../src/store/errors.ts";
import type { EdgeContext } from "../context.ts";

const SYSTEM_FLAGS = new Set(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]);

/** APPEND beyond the user's QUOTA: 409 { error: "overquota" } (the relay answers NO [OVERQUOTA]). */
class OverQuota extends Error {}

function ranges(set: string) {
  return set === "" ? [] : (parseSequenceSet(set, 0) ?? []);
}

export function imapRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();
  const mail = ctx.store.mail;

  /** Parses the body, resolves the user, runs `fn`; StoreErrors become 404/409/400. */
  const route = <S extends z.ZodType<{ user: string }>>(
    path: string,
    schema: S,
    fn: (body: z.infer<S>, userId: number) => Promise<unknown>,
  ) =>
    app.post(path, async (c: Context) => {
      const parsed = schema.safeParse(await c.req.json().catch(() => null));
      if (!parsed.success) return c.json({ error: "bad request" }, 400);
      try {
        const userId = await mail.userId(parsed.data.user);
        const result = await fn(parsed.data, userId);
        return result instanceof Response ? result : c.json(result as object);
      } catch (err) {
        if (err instanceof OverQuota) return c.json({ error: "overquota" }, 409);
        if (err instanceof StoreError) {
          const status = err.code === "not-found" ? 404 : err.code === "exists" ? 409 : 400;
          return c.json(
            { error: err.code === "not-found" ? "nonexistent" : err.code, message: err.message },
            status,
          );
        }
        throw err;
      }
    });

  route("/mailboxes", UserRequestSchema, async (_b, userId) => {
    const list = await mail.list(userId);
    return list.map(
      (m): MailboxInfo => ({ id: m.id, name: m.name, specialUse: m.specialUse, subscribed: m.subscribed }),
    );
  });

  route("/create", NameRequestSchema, async (b, userId) => {
    await mail.create(userId, b.name);
    return { ok: true };
  });

  route("/delete", NameRequestSchema, async (b, userId) => {
    await mail.delete(userId, b.name);
    return { ok: true };
  });

  route("/rename", RenameRequestSchema, async (b, userId) => {
    await mail.rename(userId, b.from, b.to);
    return { ok: true };
  });

  route("/subscribe", SubscribeRequestSchema, async (b, userId) => {
    await mail.subscribe(userId, b.name, b.subscribed);
    return { ok: true };
  });

  route("/status", StatusRequestSchema, async (b, userId) => {
    const all = await mail.list(userId);
    const wanted = all.filter((m) =>
      b.names.some((n) => (n.toUpperCase() === "INBOX" ? "INBOX" : n) === m.name),
    );
    if (wanted.length < new Set(b.names).size && b.names.length === 1)
      throw new StoreError("not-found", "no such mailbox");
    const counts = await mail.counts(wanted.map((m) => m.id));
    return wanted.map((m): MailboxStatus => {
      const c = counts.get(m.id) ?? { messages: 0, unseen: 0, deleted: 0, size: 0 };
      return {
        name: m.name,
        id: m.id,
        ...c,
        uidNext: m.uidNext,
        uidValidity: m.uidValidity,
        highestModseq: m.highestModseq,
      };
    });
  });

  route("/select", SelectRequestSchema, async (b, userId) => {
    const box = await mail.mailbox(userId, b.name);
    const k = b.known;
    if (k && k.id === box.id && k.uidValidity === box.uidValidity && k.highestModseq === box.highestModseq) {
      const same: SelectResponse = {
        unchanged: true,
        id: box.id,
        name: box.name,
        uidValidity: box.uidValidity,
        uidNext: box.uidNext,
        highestModseq: box.highestModseq,
        messages: [],
        flagSets: [],
        keywords: [],
      };
      return same;
    }
    const states = await mail.compactStates(box.id);
    const keywords = new Set<string>();
    for (const set of states.flagSets) for (const f of set) if (!SYSTEM_FLAGS.has(f)) keywords.add(f);
    const body: SelectResponse = {
      id: box.id,
      name: box.name,
      uidValidity: box.uidValidity,
      uidNext: box.uidNext,
      highestModseq: box.highestModseq,
      messages: states.messages,
      flagSets: states.flagSets,
      keywords: [...keywords],
    };
    return body;
  });

  route("/changes", ChangesRequestSchema, async (b, userId) => {
    const box = await mail.mailboxById(userId, b.mailboxId);
    const moved = box.highestModseq > b.sinceModseq;
    const body: ChangesResponse = {
      uidNext: box.uidNext,
      highestModseq: box.highestModseq,
      changed: moved ? await mail.changedSince(box.id, b.sinceModseq) : [],
      uids: moved ? formatSet(await mail.uids(box.id)) : null,
    };
    if (b.vanished) body.vanished = moved ? formatSet(await mail.vanished(box.id, b.sinceModseq)) : "";
    return body;
  });

  route("/fetch", FetchRequestSchema, async (b, userId) => {
    await mail.mailboxById(userId, b.mailboxId);
    if (b.compact && !b.raw && !b.structure) {
      const body: CompactFetchResponse = await mail.compactMeta(b.mailboxId, ranges(b.uids));
      return body;
    }
    if (b.structure && !b.raw) {
      // Each stored view is already JSON: spliced in as is, it is neither escaped here nor parsed
      // twice by the relay. Only what structureJson() wrote ({"v":1,...}) is spliced.
      const rows = await mail.metaWithStructure(b.mailboxId, ranges(b.uids));
      const parts = rows.map(({ structure, ...meta }) => {
        const head = JSON.stringify({ ...meta, raw: null }).slice(0, -1);
        const ok = structure?.startsWith('{"v":1,') && structure.endsWith("}");
        return `${head},"structure":${ok ? structure : "null"}}`;
      });
      return new Response(`{"rows":[${parts.join(",")}]}`, {
        headers: { "content-type": "application/json" },
      });
    }
    const rows = b.structure
      ? await mail.metaWithStructure(b.mailboxId, ranges(b.uids))
      : await mail.meta(b.mailboxId, ranges(b.uids));
    const raws = b.raw ? await mail.blobs(rows.map((r) => r.blobId)) : new Map<string, Uint8Array>();
    return {
      rows: rows.map((r): FetchRow => {
        const raw = raws.get(r.blobId);
        return { ...r, raw: raw ? toBase64(raw) : null };
      }),
    };
  });

  route("/store", StoreRequestSchema, async (b, userId) => {
    await mail.mailboxById(userId, b.mailboxId);
    const res = await mail.store(b.mailboxId, ranges(b.uids), b.op, b.flags, b.unchangedSince);
    const body: StoreResponse = { ...res, modified: formatSet(res.modified) };
    return body;
  });

  route("/expunge", ExpungeRequestSchema, async (b, userId) => {
    await mail.mailboxById(userId, b.mailboxId);
    const res = await mail.expunge(b.mailboxId, b.uids === null ? null : ranges(b.uids));
    const body: ExpungeResponse = { highestModseq: res.highestModseq, expunged: formatSet(res.expunged) };
    return body;
  });

  const quota = async (userId: number): Promise<QuotaResponse> => {
    const u = await mail.usage(userId);
    return { usedBytes: u.usedBytes, limitBytes: u.quotaBytes ?? ctx.quotaBytes ?? null };
  };

  route("/quota", UserRequestSchema, async (_b, userId) => quota(userId));

  route("/append", AppendRequestSchema, async (b, userId) => {
    const raw = fromBase64(b.raw);
    if (raw.length > ctx.maxMessageBytes) throw new StoreError("invalid", "message too large");
    const q = await quota(userId);
    if (q.limitBytes !== null && q.usedBytes + raw.length > q.limitBytes) throw new OverQuota();
    const body: AppendResponse = await mail.append(userId, b.mailbox, raw, b.flags, b.internalDate);
    return body;
  });

  route("/copy", CopyRequestSchema, async (b, userId) => {
    const body: CopyResponse = await mail.copy(userId, b.mailboxId, ranges(b.uids), b.to, b.move);
    return body;
  });

  // Raw bytes, framed (see encodeBodies): no base64 or JSON around the largest thing IMAP moves.
  app.post("/bodies", async (c) => {
    const parsed = BodiesRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: "bad request" }, 400);
    const b = parsed.data;
    try {
      const userId = await mail.userId(b.user);
      await mail.mailboxById(userId, b.mailboxId);
    } catch (err) {
      if (err instanceof StoreError) return c.json({ error: "nonexistent" }, 404);
      throw err;
    }
    const rows = await mail.meta(b.mailboxId, ranges(b.uids));
    const raws = await mail.blobs(rows.map((r) => r.blobId));
    const entries = rows.flatMap((r) => {
      const raw = raws.get(r.blobId);
      return raw ? [{ uid: r.uid, blobId: r.blobId, raw }] : [];
    });
    return c.body(encodeBodies(entries) as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
    });
  });

  // Not per user: one call covers every idling session of a relay.
  app.post("/watch", async (c) => {
    const parsed = WatchRequestSchema.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: "bad request" }, 400);
    const wanted = parsed.data.mailboxes;
    const rows = await mail.modseqs(wanted.map((w) => w.mailboxId));
    const owner = new Map(rows.map((r) => [r.id, r]));
    const body: WatchResponse = {
      mailboxes: wanted.flatMap((w) => {
        const r = owner.get(w.mailboxId);
        return r && r.login === w.user.toLowerCase()
          ? [{ mailboxId: r.id, highestModseq: r.highestModseq }]
          : [];
      }),
    };
    return c.json(body);
  });

  return app;
}
