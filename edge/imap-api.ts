/**
 * The IMAP store API's operations (see src/contract-imap.ts), typed. Two transports call these same
 * functions: the HTTP routes (edge/routes/imap.ts) for a relay talking to a deployed edge, and the
 * embedded relay directly (relay/imap-local.ts). Inputs are the contract's request shapes, already
 * valid; refusals are thrown as StoreError or OverQuota and mapped by `imapFailure`.
 */
import type { z } from "zod";
import type {
  AppendRequestSchema,
  AppendResponse,
  BodiesRequestSchema,
  ChangesRequestSchema,
  ChangesResponse,
  CompactFetchResponse,
  CopyRequestSchema,
  CopyResponse,
  ExpungeRequestSchema,
  ExpungeResponse,
  FetchRequestSchema,
  FetchRow,
  MailboxInfo,
  MailboxStatus,
  NameRequestSchema,
  QuotaResponse,
  RenameRequestSchema,
  SelectRequestSchema,
  SelectResponse,
  StatusRequestSchema,
  StoreRequestSchema,
  StoreResponse,
  SubscribeRequestSchema,
  UserRequestSchema,
  WatchRequestSchema,
  WatchResponse,
} from "../src/contract-imap.ts";
import { fromBase64, toBase64 } from "../src/encoding.ts";
import { formatSet, parseSequenceSet } from "../src/imap/sequence.ts";
import { StoreError } from "../src/store/errors.ts";
import type { Store } from "../src/store/index.ts";
import type { MessageMeta } from "../src/store/mailstore.ts";

const SYSTEM_FLAGS = new Set(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"]);

/** APPEND beyond the user's QUOTA: 409 { error: "overquota" } (the relay answers NO [OVERQUOTA]). */
export class OverQuota extends Error {}

/** How a refusal travels: HTTP status and the contract's error code. Null: not a refusal (a bug). */
export function imapFailure(err: unknown): { status: number; error: string; message: string } | null {
  if (err instanceof OverQuota) return { status: 409, error: "overquota", message: "storage quota exceeded" };
  if (err instanceof StoreError) {
    if (err.code === "not-found") return { status: 404, error: "nonexistent", message: err.message };
    if (err.code === "exists") return { status: 409, error: "exists", message: err.message };
    return { status: 400, error: err.code, message: err.message };
  }
  return null;
}

export interface ImapApiOptions {
  store: Store;
  /** The largest message APPEND may store. */
  maxMessageBytes: number;
  /** QUOTA default per user in bytes; null = unlimited. */
  quotaBytes: number | null;
}

/** A fetch answer before encoding: compact metadata, metadata with stored views (JSON text), or rows. */
export type FetchResult =
  | { kind: "compact"; body: CompactFetchResponse }
  | { kind: "views"; rows: Array<MessageMeta & { structure: string | null }> }
  | { kind: "rows"; rows: FetchRow[] };

type In<S extends z.ZodType> = z.infer<S>;

function ranges(set: string) {
  return set === "" ? [] : (parseSequenceSet(set, 0) ?? []);
}

export function imapStoreApi(opts: ImapApiOptions) {
  const mail = opts.store.mail;
  const quota = async (userId: number): Promise<QuotaResponse> => {
    const usedBytes = await mail.usedBytes(userId);
    return { usedBytes, limitBytes: (await opts.store.directory.quotaOf(userId)) ?? opts.quotaBytes };
  };

  return {
    async mailboxes(b: In<typeof UserRequestSchema>): Promise<MailboxInfo[]> {
      const list = await mail.list(await mail.userId(b.user));
      return list.map((m) => ({
        id: m.id,
        name: m.name,
        specialUse: m.specialUse,
        subscribed: m.subscribed,
      }));
    },

    async create(b: In<typeof NameRequestSchema>): Promise<{ ok: true }> {
      await mail.create(await mail.userId(b.user), b.name);
      return { ok: true };
    },

    async delete(b: In<typeof NameRequestSchema>): Promise<{ ok: true }> {
      await mail.delete(await mail.userId(b.user), b.name);
      return { ok: true };
    },

    async rename(b: In<typeof RenameRequestSchema>): Promise<{ ok: true }> {
      await mail.rename(await mail.userId(b.user), b.from, b.to);
      return { ok: true };
    },

    async subscribe(b: In<typeof SubscribeRequestSchema>): Promise<{ ok: true }> {
      await mail.subscribe(await mail.userId(b.user), b.name, b.subscribed);
      return { ok: true };
    },

    async status(b: In<typeof StatusRequestSchema>): Promise<MailboxStatus[]> {
      const all = await mail.list(await mail.userId(b.user));
      const wanted = all.filter((m) =>
        b.names.some((n) => (n.toUpperCase() === "INBOX" ? "INBOX" : n) === m.name),
      );
      if (wanted.length < new Set(b.names).size && b.names.length === 1)
        throw new StoreError("not-found", "no such mailbox");
      const counts = await mail.counts(wanted.map((m) => m.id));
      return wanted.map((m) => {
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
    },

    async select(b: In<typeof SelectRequestSchema>): Promise<SelectResponse> {
      const box = await mail.mailbox(await mail.userId(b.user), b.name);
      const head = {
        id: box.id,
        name: box.name,
        uidValidity: box.uidValidity,
        uidNext: box.uidNext,
        highestModseq: box.highestModseq,
      };
      const k = b.known;
      if (k && k.id === box.id && k.uidValidity === box.uidValidity && k.highestModseq === box.highestModseq)
        return { unchanged: true, ...head, messages: [], flagSets: [], keywords: [] };
      const states = await mail.compactStates(box.id);
      const keywords = new Set<string>();
      for (const set of states.flagSets) for (const f of set) if (!SYSTEM_FLAGS.has(f)) keywords.add(f);
      return { ...head, messages: states.messages, flagSets: states.flagSets, keywords: [...keywords] };
    },

    async changes(b: In<typeof ChangesRequestSchema>): Promise<ChangesResponse> {
      const box = await mail.mailboxById(await mail.userId(b.user), b.mailboxId);
      const moved = box.highestModseq > b.sinceModseq;
      const body: ChangesResponse = {
        uidNext: box.uidNext,
        highestModseq: box.highestModseq,
        changed: moved ? await mail.changedSince(box.id, b.sinceModseq) : [],
        uids: moved ? formatSet(await mail.uids(box.id)) : null,
      };
      if (b.vanished) body.vanished = moved ? formatSet(await mail.vanished(box.id, b.sinceModseq)) : "";
      return body;
    },

    async fetch(b: In<typeof FetchRequestSchema>): Promise<FetchResult> {
      await mail.mailboxById(await mail.userId(b.user), b.mailboxId);
      if (b.compact && !b.raw && !b.structure)
        return { kind: "compact", body: await mail.compactMeta(b.mailboxId, ranges(b.uids)) };
      if (b.structure && !b.raw)
        return { kind: "views", rows: await mail.metaWithStructure(b.mailboxId, ranges(b.uids)) };
      const rows: Array<MessageMeta & { structure?: string | null }> = b.structure
        ? await mail.metaWithStructure(b.mailboxId, ranges(b.uids))
        : await mail.meta(b.mailboxId, ranges(b.uids));
      const raws = b.raw ? await mail.blobs(rows.map((r) => r.blobId)) : new Map<string, Uint8Array>();
      return {
        kind: "rows",
        rows: rows.map((r): FetchRow => {
          const raw = raws.get(r.blobId);
          return { ...r, raw: raw ? toBase64(raw) : null };
        }),
      };
    },

    async store(b: In<typeof StoreRequestSchema>): Promise<StoreResponse> {
      await mail.mailboxById(await mail.userId(b.user), b.mailboxId);
      const res = await mail.store(b.mailboxId, ranges(b.uids), b.op, b.flags, b.unchangedSince);
      return { ...res, modified: formatSet(res.modified) };
    },

    async expunge(b: In<typeof ExpungeRequestSchema>): Promise<ExpungeResponse> {
      await mail.mailboxById(await mail.userId(b.user), b.mailboxId);
      const res = await mail.expunge(b.mailboxId, b.uids === null ? null : ranges(b.uids));
      return { highestModseq: res.highestModseq, expunged: formatSet(res.expunged) };
    },

    async quota(b: In<typeof UserRequestSchema>): Promise<QuotaResponse> {
      return quota(await mail.userId(b.user));
    },

    async append(b: In<typeof AppendRequestSchema>): Promise<AppendResponse> {
      const userId = await mail.userId(b.user);
      const raw = fromBase64(b.raw);
      if (raw.length > opts.maxMessageBytes) throw new StoreError("invalid", "message too large");
      const q = await quota(userId);
      if (q.limitBytes !== null && q.usedBytes + raw.length > q.limitBytes) throw new OverQuota();
      return mail.append(userId, b.mailbox, raw, b.flags, b.internalDate);
    },

    async copy(b: In<typeof CopyRequestSchema>): Promise<CopyResponse> {
      return mail.copy(await mail.userId(b.user), b.mailboxId, ranges(b.uids), b.to, b.move);
    },

    /** Raw messages of a UID set, in UID order. */
    async bodies(
      b: In<typeof BodiesRequestSchema>,
    ): Promise<Array<{ uid: number; blobId: string; raw: Uint8Array }>> {
      await mail.mailboxById(await mail.userId(b.user), b.mailboxId);
      const rows = await mail.meta(b.mailboxId, ranges(b.uids));
      const raws = await mail.blobs(rows.map((r) => r.blobId));
      return rows.flatMap((r) => {
        const raw = raws.get(r.blobId);
        return raw ? [{ uid: r.uid, blobId: r.blobId, raw }] : [];
      });
    },

    /** Not per user: one call covers every idling session of a relay. */
    async watch(b: In<typeof WatchRequestSchema>): Promise<WatchResponse> {
      const wanted = b.mailboxes;
      const rows = await mail.modseqs(wanted.map((w) => w.mailboxId));
      const owner = new Map(rows.map((r) => [r.id, r]));
      return {
        mailboxes: wanted.flatMap((w) => {
          const r = owner.get(w.mailboxId);
          return r && r.login === w.user.toLowerCase()
            ? [{ mailboxId: r.id, highestModseq: r.highestModseq }]
            : [];
        }),
      };
    },
  };
}

export type ImapStoreApi = ReturnType<typeof imapStoreApi>;
