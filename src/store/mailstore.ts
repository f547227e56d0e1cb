/**
 * Mailbox and message operations for IMAP, over the same drizzle database on D1 or SQLite.
 * Every write that must be atomic is one batch (D1 has no interactive transactions), and every
 * query binds fewer than 100 parameters.
 */
import { and, asc, eq, gt, inArray, like, sql } from "drizzle-orm";
import { newId } from "../ids.ts";
import { inRanges, type SeqRange } from "../imap/sequence.ts";
import { structureJson } from "../imap/structure.ts";
import { parseMessage, summarize } from "../pipeline/parse.ts";
import type { Db } from "./db.ts";
import { StoreError } from "./errors.ts";
import { type HotQueries, prepareHotQueries } from "./hot-queries.ts";
import { splitChunks } from "./messages.ts";
import { blobChunks, blobs, expunged, ingests, mailboxes, messages, users } from "./schema.ts";

export interface MailboxRow {
  id: number;
  name: string;
  specialUse: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
}

export interface MessageMeta {
  uid: number;
  modseq: number;
  flags: string[];
  internalDate: number;
  size: number;
  blobId: string;
}

export interface MailboxCounts {
  messages: number;
  unseen: number;
  deleted: number;
  size: number;
}

/** Parameter budget per IN (...) list: D1 binds at most 100 per query. */
const CHUNK = 90;
const SEEN_JSON = JSON.stringify("\\Seen");
const DELETED_JSON = JSON.stringify("\\Deleted");

function chunked<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type BatchArg = Parameters<Db["batch"]>[0];

/** "INBOX" is case-insensitive; other names are kept as given. */
export function canonicalName(name: string): string {
  return name.toUpperCase() === "INBOX" ? "INBOX" : name;
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The placeholders for the messages of `mailboxId` from the lowest to the highest UID in `ranges` (callers filter the gaps). */
function uidSpan(mailboxId: number, ranges: SeqRange[]) {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const [a, b] of ranges) {
    if (a < min) min = a;
    if (b > max) max = b;
  }
  return { mailboxId, min, max };
}

export class MailStore {
  readonly #db: Db;
  readonly #q: HotQueries;
  constructor(db: Db) {
    this.#db = db;
    this.#q = prepareHotQueries(db);
  }

  async userId(login: string): Promise<number> {
    const row = await this.#q.userId.get({ login: login.toLowerCase() });
    if (!row) throw new StoreError("not-found", "no such user");
    return row.id;
  }

  async list(userId: number): Promise<MailboxRow[]> {
    return this.#q.mailboxes.all({ userId });
  }

  async mailbox(userId: number, name: string): Promise<MailboxRow> {
    const row = (await this.list(userId)).find((m) => m.name === canonicalName(name));
    if (!row) throw new StoreError("not-found", "no such mailbox");
    return row;
  }

  async mailboxById(userId: number, id: number): Promise<MailboxRow> {
    const row = (await this.list(userId)).find((m) => m.id === id);
    if (!row) throw new StoreError("not-found", "no such mailbox");
    return row;
  }

  async create(userId: number, name: string): Promise<void> {
    const wanted = canonicalName(name);
    const all = await this.list(userId);
    if (all.some((m) => m.name === wanted)) throw new StoreError("exists", "mailbox exists");
    // A recreated name must never reuse an old UIDVALIDITY.
    const maxValidity = all.reduce((m, b) => Math.max(m, b.uidValidity), 0);
    const uidValidity = Math.max(Math.floor(Date.now() / 1000), maxValidity + 1);
    // Missing parents ("a" for "a/b") are created too (RFC 3501 §6.3.3).
    const parts = wanted.split("/");
    const names = parts
      .map((_p, i) => parts.slice(0, i + 1).join("/"))
      .filter((n) => n !== "" && !all.some((m) => m.name === n));
    await this.#db.insert(mailboxes).values(names.map((n) => ({ userId, name: n, uidValidity })));
  }

  async delete(userId: number, name: string): Promise<void> {
    const box = await this.mailbox(userId, name);
    if (box.name === "INBOX") throw new StoreError("invalid", "INBOX cannot be deleted");
    await this.#db.batch([
      this.#db.delete(messages).where(eq(messages.mailboxId, box.id)),
      this.#db.delete(mailboxes).where(eq(mailboxes.id, box.id)),
    ] as unknown as BatchArg);
  }

  async rename(userId: number, from: string, to: string): Promise<void> {
    const box = await this.mailbox(userId, from);
    if (box.name === "INBOX") throw new StoreError("invalid", "renaming INBOX is not supported");
    const target = canonicalName(to);
    const all = await this.list(userId);
    if (all.some((m) => m.name === target)) throw new StoreError("exists", "mailbox exists");
    const children = all.filter((m) => m.name.startsWith(`${box.name}/`));
    await this.#db.batch([
      this.#db.update(mailboxes).set({ name: target }).where(eq(mailboxes.id, box.id)),
      ...children.map((c) =>
        this.#db
          .update(mailboxes)
          .set({ name: target + c.name.slice(box.name.length) })
          .where(eq(mailboxes.id, c.id)),
      ),
    ] as unknown as BatchArg);
  }

  async subscribe(userId: number, name: string, subscribed: boolean): Promise<void> {
    const box = await this.mailbox(userId, name);
    await this.#db.update(mailboxes).set({ subscribed }).where(eq(mailboxes.id, box.id));
  }

  /** QUOTA: bytes stored in all of a user's mailboxes (their limit is Directory.quotaOf). */
  async usedBytes(userId: number): Promise<number> {
    const used = await this.#db
      .select({ n: sql<number>`coalesce(sum(${messages.size}), 0)` })
      .from(messages)
      .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
      .where(eq(mailboxes.userId, userId))
      .get();
    return Number(used?.n ?? 0);
  }

  /** Highest modseq of each mailbox, with its owner's login (for IDLE watchers). */
  async modseqs(ids: number[]): Promise<Array<{ id: number; login: string; highestModseq: number }>> {
    const out: Array<{ id: number; login: string; highestModseq: number }> = [];
    for (const part of chunked([...new Set(ids)])) {
      const rows = await this.#db
        .select({ id: mailboxes.id, login: users.login, highestModseq: mailboxes.highestModseq })
        .from(mailboxes)
        .innerJoin(users, eq(users.id, mailboxes.userId))
        .where(inArray(mailboxes.id, part));
      out.push(...rows);
    }
    return out;
  }

  /** Message counts per mailbox id. */
  async counts(ids: number[]): Promise<Map<number, MailboxCounts>> {
    const out = new Map<number, MailboxCounts>();
    for (const part of chunked(ids)) {
      const rows = await this.#db
        .select({
          id: messages.mailboxId,
          n: sql<number>`count(*)`,
          unseen: sql<number>`sum(case when instr(${messages.flags}, ${SEEN_JSON}) = 0 then 1 else 0 end)`,
          deleted: sql<number>`sum(case when instr(${messages.flags}, ${DELETED_JSON}) > 0 then 1 else 0 end)`,
          size: sql<number>`sum(${messages.size})`,
        })
        .from(messages)
        .where(inArray(messages.mailboxId, part))
        .groupBy(messages.mailboxId);
      for (const r of rows) {
        out.set(r.id, {
          messages: Number(r.n),
          unseen: Number(r.unseen ?? 0),
          deleted: Number(r.deleted ?? 0),
          size: Number(r.size ?? 0),
        });
      }
    }
    return out;
  }

  /**
   * Every message's UID, modseq and flags (as an index into the distinct flag combinations), ascending
   * UID: the flags column is read as text and each distinct value parsed once.
   */
  async compactStates(
    mailboxId: number,
  ): Promise<{ messages: Array<[number, number, number]>; flagSets: string[][] }> {
    const rows = await this.#q.states.all({ mailboxId });
    const index = new Map<string, number>();
    const flagSets: string[][] = [];
    const out: Array<[number, number, number]> = [];
    for (const r of rows) {
      let i = index.get(r.flags);
      if (i === undefined) {
        i = flagSets.length;
        index.set(r.flags, i);
        flagSets.push(JSON.parse(r.flags) as string[]);
      }
      out.push([r.uid, r.modseq, i]);
    }
    return { messages: out, flagSets };
  }

  async changedSince(
    mailboxId: number,
    modseq: number,
  ): Promise<Array<{ uid: number; modseq: number; flags: string[] }>> {
    return this.#q.changedSince.all({ mailboxId, modseq });
  }

  async uids(mailboxId: number): Promise<number[]> {
    const rows = await this.#q.uids.all({ mailboxId });
    return rows.map((r) => r.uid);
  }

  /** Metadata of the messages whose UIDs fall in `ranges`. */
  async meta(mailboxId: number, ranges: SeqRange[]): Promise<MessageMeta[]> {
    if (ranges.length === 0) return [];
    const rows = await this.#q.meta.all(uidSpan(mailboxId, ranges));
    return rows.filter((r) => inRanges(ranges, r.uid));
  }

  /**
   * meta() compactly: [uid, modseq, index into flagSets, internalDate, size, blobId] per message, the
   * flags column read as text and each distinct value parsed once (as compactStates()).
   */
  async compactMeta(
    mailboxId: number,
    ranges: SeqRange[],
  ): Promise<{ rows: Array<[number, number, number, number, number, string]>; flagSets: string[][] }> {
    if (ranges.length === 0) return { rows: [], flagSets: [] };
    const rows = await this.#q.compactMeta.all(uidSpan(mailboxId, ranges));
    const index = new Map<string, number>();
    const flagSets: string[][] = [];
    const out: Array<[number, number, number, number, number, string]> = [];
    const all = ranges.length === 1;
    for (const r of rows) {
      if (!all && !inRanges(ranges, r.uid)) continue;
      let i = index.get(r.flags);
      if (i === undefined) {
        i = flagSets.length;
        index.set(r.flags, i);
        flagSets.push(JSON.parse(r.flags) as string[]);
      }
      out.push([r.uid, r.modseq, i, r.internalDate, r.size, r.blobId]);
    }
    return { rows: out, flagSets };
  }

  /** meta() plus each message's stored IMAP view, in one query (null where none was stored). */
  async metaWithStructure(
    mailboxId: number,
    ranges: SeqRange[],
  ): Promise<Array<MessageMeta & { structure: string | null }>> {
    if (ranges.length === 0) return [];
    const rows = await this.#q.metaWithStructure.all(uidSpan(mailboxId, ranges));
    return rows.filter((r) => inRanges(ranges, r.uid));
  }

  /** Stored IMAP views (src/imap/structure.ts) of several blobs; blobs without one are left out. */
  async structures(ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const part of chunked([...new Set(ids)])) {
      const rows = await this.#db
        .select({ id: blobs.id, structure: blobs.structure })
        .from(blobs)
        .where(inArray(blobs.id, part));
      for (const r of rows) if (r.structure) out.set(r.id, r.structure);
    }
    return out;
  }

  /** Raw bytes of several blobs, few queries. */
  async blobs(ids: string[]): Promise<Map<string, Uint8Array>> {
    const unique = [...new Set(ids)];
    const parts = new Map<string, Uint8Array[]>();
    for (const part of chunked(unique)) {
      const rows =
        part.length === 1
          ? await this.#q.blobChunks.all({ blobId: part[0] })
          : await this.#db
              .select({ blobId: blobChunks.blobId, seq: blobChunks.seq, data: blobChunks.data })
              .from(blobChunks)
              .where(inArray(blobChunks.blobId, part))
              .orderBy(asc(blobChunks.blobId), asc(blobChunks.seq));
      for (const r of rows) {
        const list = parts.get(r.blobId) ?? [];
        list.push(r.data);
        parts.set(r.blobId, list);
      }
    }
    const out = new Map<string, Uint8Array>();
    for (const [id, list] of parts) {
      const size = list.reduce((n, c) => n + c.length, 0);
      const bytes = new Uint8Array(size);
      let off = 0;
      for (const c of list) {
        bytes.set(c, off);
        off += c.length;
      }
      out.set(id, bytes);
    }
    return out;
  }

  /**
   * Changes flags; every changed message gets the mailbox's next modseq (one per command).
   * Messages with a modseq above `unchangedSince` are left alone and reported.
   */
  async store(
    mailboxId: number,
    ranges: SeqRange[],
    op: "add" | "remove" | "replace",
    flags: string[],
    unchangedSince: number | null,
  ): Promise<{
    highestModseq: number;
    messages: Array<{ uid: number; modseq: number; flags: string[] }>;
    modified: number[];
  }> {
    const rows = await this.meta(mailboxId, ranges);
    const modified: number[] = [];
    const groups = new Map<string, number[]>();
    for (const r of rows) {
      if (unchangedSince !== null && r.modseq > unchangedSince) {
        modified.push(r.uid);
        continue;
      }
      let next: string[];
      if (op === "replace") next = [...new Set(flags)];
      else if (op === "add") next = [...r.flags, ...flags.filter((f) => !r.flags.includes(f))];
      else next = r.flags.filter((f) => !flags.includes(f));
      next = [...new Set(next)];
      const same = next.length === r.flags.length && next.every((f) => r.flags.includes(f));
      if (same) continue;
      const key = JSON.stringify(next);
      const list = groups.get(key) ?? [];
      list.push(r.uid);
      groups.set(key, list);
    }
    if (groups.size > 0) {
      const db = this.#db;
      const nextModseq = sql`(select ${mailboxes.highestModseq} from ${mailboxes} where ${mailboxes.id} = ${mailboxId})`;
      await db.batch([
        db
          .update(mailboxes)
          .set({ highestModseq: sql`${mailboxes.highestModseq} + 1` })
          .where(eq(mailboxes.id, mailboxId)),
        ...[...groups].flatMap(([key, uids]) =>
          chunked(uids).map((part) =>
            db
              .update(messages)
              .set({ flags: JSON.parse(key) as string[], modseq: nextModseq })
              .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, part))),
          ),
        ),
      ] as unknown as BatchArg);
    }
    const after = await this.meta(mailboxId, ranges);
    const box = await this.#db
      .select({ h: mailboxes.highestModseq })
      .from(mailboxes)
      .where(eq(mailboxes.id, mailboxId))
      .get();
    return {
      highestModseq: box?.h ?? 0,
      messages: after.map((r) => ({ uid: r.uid, modseq: r.modseq, flags: r.flags })),
      modified,
    };
  }

  /** Removes \Deleted messages (only those in `ranges` when given). */
  async expunge(
    mailboxId: number,
    ranges: SeqRange[] | null,
  ): Promise<{ highestModseq: number; expunged: number[] }> {
    const rows = await this.#db
      .select({ uid: messages.uid })
      .from(messages)
      .where(and(eq(messages.mailboxId, mailboxId), like(messages.flags, `%${DELETED_JSON}%`)))
      .orderBy(asc(messages.uid));
    const gone = rows.map((r) => r.uid).filter((u) => ranges === null || inRanges(ranges, u));
    if (gone.length > 0) await this.#remove(mailboxId, gone);
    const box = await this.#db
      .select({ h: mailboxes.highestModseq })
      .from(mailboxes)
      .where(eq(mailboxes.id, mailboxId))
      .get();
    return { highestModseq: box?.h ?? 0, expunged: gone };
  }

  async #remove(mailboxId: number, uids: number[]): Promise<void> {
    const db = this.#db;
    await db.batch([
      db
        .update(mailboxes)
        .set({ highestModseq: sql`${mailboxes.highestModseq} + 1` })
        .where(eq(mailboxes.id, mailboxId)),
      ...chunked(uids).map((part) =>
        db.delete(messages).where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, part))),
      ),
      ...this.#tombstones(mailboxId, uids),
    ] as unknown as BatchArg);
  }

  /**
   * QRESYNC tombstones: each removed UID with the modseq of its removal (the mailbox's modseq after
   * the increment earlier in the same batch), so VANISHED (EARLIER) can be answered later.
   */
  #tombstones(mailboxId: number, uids: number[]) {
    const db = this.#db;
    const modseq = sql`(select ${mailboxes.highestModseq} from ${mailboxes} where ${mailboxes.id} = ${mailboxId})`;
    // Three bound parameters per row.
    return chunked(uids, 30).map((part) =>
      db
        .insert(expunged)
        .values(part.map((uid) => ({ mailboxId, uid, modseq })))
        .onConflictDoNothing(),
    );
  }

  /** UIDs removed from a mailbox after `sinceModseq`, ascending. */
  async vanished(mailboxId: number, sinceModseq: number): Promise<number[]> {
    const rows = await this.#db
      .select({ uid: expunged.uid })
      .from(expunged)
      .where(and(eq(expunged.mailboxId, mailboxId), gt(expunged.modseq, sinceModseq)))
      .orderBy(asc(expunged.uid));
    return rows.map((r) => r.uid);
  }

  /** Stores a new message in one mailbox (APPEND), atomically; returns its UID. */
  async append(
    userId: number,
    name: string,
    raw: Uint8Array,
    flags: string[],
    internalDate: number | null,
  ): Promise<{ uidValidity: number; uid: number }> {
    const box = await this.mailbox(userId, name);
    const now = Date.now();
    const id = newId(now);
    const chunks = splitChunks(raw);
    const summary = summarize(await parseMessage(raw));
    const db = this.#db;
    const results = await db.batch([
      db.insert(blobs).values({
        id,
        size: raw.length,
        sha256: await sha256Hex(raw),
        chunkCount: chunks.length,
        structure: structureJson(raw),
      }),
      ...chunks.map((data, seq) => db.insert(blobChunks).values({ blobId: id, seq, data })),
      db.insert(ingests).values({
        id,
        idempotencyKey: `imap-append:${id}`,
        blobId: id,
        receivedAt: now,
        envelope: { mailFrom: "", rcptTo: [] },
        connection: { protocol: "IMAP APPEND" },
        summary,
        auth: null,
      }),
      db
        .update(mailboxes)
        .set({ uidNext: sql`${mailboxes.uidNext} + 1`, highestModseq: sql`${mailboxes.highestModseq} + 1` })
        .where(eq(mailboxes.id, box.id)),
      db
        .insert(messages)
        .values({
          mailboxId: box.id,
          uid: sql`(select ${mailboxes.uidNext} - 1 from ${mailboxes} where ${mailboxes.id} = ${box.id})`,
          modseq: sql`(select ${mailboxes.highestModseq} from ${mailboxes} where ${mailboxes.id} = ${box.id})`,
          flags: [...new Set(flags)],
          internalDate: internalDate ?? now,
          size: raw.length,
          ingestId: id,
          blobId: id,
        })
        .returning({ uid: messages.uid }),
    ] as unknown as BatchArg);
    const last = results[results.length - 1] as Array<{ uid: number }>;
    const uid = last[0]?.uid;
    if (uid === undefined) throw new Error("append: no UID returned");
    return { uidValidity: box.uidValidity, uid };
  }

  /** Copies (or moves) messages to another mailbox of the same user; UIDs pairwise. */
  async copy(
    userId: number,
    mailboxId: number,
    ranges: SeqRange[],
    to: string,
    move: boolean,
  ): Promise<{ uidValidity: number; from: number[]; to: number[]; highestModseq: number }> {
    const source = await this.mailboxById(userId, mailboxId);
    const dest = await this.mailbox(userId, to);
    const rows = await this.meta(mailboxId, ranges);
    const ingestRows = new Map<number, string>();
    for (const part of chunked(rows.map((r) => r.uid))) {
      const found = await this.#db
        .select({ uid: messages.uid, ingestId: messages.ingestId })
        .from(messages)
        .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, part)));
      for (const f of found) ingestRows.set(f.uid, f.ingestId);
    }
    const db = this.#db;
    const toUids: number[] = [];
    // Bounded batches keep D1 happy; each message's UID is taken inside its batch.
    for (const part of chunked(rows, 200)) {
      const stmts: unknown[] = part.flatMap((r) => [
        db
          .update(mailboxes)
          .set({ uidNext: sql`${mailboxes.uidNext} + 1`, highestModseq: sql`${mailboxes.highestModseq} + 1` })
          .where(eq(mailboxes.id, dest.id)),
        db
          .insert(messages)
          .values({
            mailboxId: dest.id,
            uid: sql`(select ${mailboxes.uidNext} - 1 from ${mailboxes} where ${mailboxes.id} = ${dest.id})`,
            modseq: sql`(select ${mailboxes.highestModseq} from ${mailboxes} where ${mailboxes.id} = ${dest.id})`,
            flags: r.flags,
            internalDate: r.internalDate,
            size: r.size,
            ingestId: ingestRows.get(r.uid) ?? r.blobId,
            blobId: r.blobId,
          })
          .returning({ uid: messages.uid }),
      ]);
      if (move) {
        stmts.push(
          db
            .update(mailboxes)
            .set({ highestModseq: sql`${mailboxes.highestModseq} + 1` })
            .where(eq(mailboxes.id, mailboxId)),
          ...chunked(part.map((r) => r.uid)).map((uids) =>
            db.delete(messages).where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, uids))),
          ),
          ...this.#tombstones(
            mailboxId,
            part.map((r) => r.uid),
          ),
        );
      }
      const results = await db.batch(stmts as unknown as BatchArg);
      for (let i = 0; i < part.length; i++) {
        const res = results[i * 2 + 1] as Array<{ uid: number }>;
        toUids.push(res[0]?.uid ?? 0);
      }
    }
    const after = move ? await this.mailboxById(userId, mailboxId) : source;
    return {
      uidValidity: dest.uidValidity,
      from: rows.map((r) => r.uid),
      to: toUids,
      highestModseq: after.highestModseq,
    };
  }
}
