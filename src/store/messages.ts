/**
 * Message storage: one atomic batch per accepted transaction, idempotent per relay key.
 */
import { asc, desc, eq, sql } from "drizzle-orm";
import { sha256, toHex } from "../sha256.ts";
import { Compiled } from "./compiled.ts";
import type { Db, SqlDriver, SqlStatement } from "./db.ts";
import {
  BLOB_CHUNK_BYTES,
  blobChunks,
  blobs,
  ingests,
  type MessageSummary,
  mailboxes,
  messages,
  type StoredEnvelope,
  webhookDeliveries,
} from "./schema.ts";
import { webhookDeliveryRows } from "./webhooks.ts";

export interface IngestInput {
  /** The new message's id (see ids.ts); also the SMTP queue id. */
  id: string;
  idempotencyKey: string;
  receivedAt: number;
  envelope: StoredEnvelope;
  connection: Record<string, unknown>;
  /** The message as it will be stored (with any headers the edge prepended). */
  raw: Uint8Array;
  summary: MessageSummary;
  auth: Record<string, unknown> | null;
  /** The message's IMAP view as JSON (src/imap/structure.ts), computed once here so IMAP never re-parses. */
  structure?: string | null;
  /** Where copies go: one row per mailbox, each with its own UID and modseq. */
  mailboxIds: number[];
  /** Webhook endpoints to notify: their outbox rows are written in the same batch as the message. */
  webhookEndpointIds?: number[];
}

export interface IngestResult {
  id: string;
  /** True when this idempotency key was already stored: nothing new was written. */
  duplicate: boolean;
}

export interface MessageDetail {
  id: string;
  receivedAt: number;
  envelope: StoredEnvelope;
  /** The relay's session: HELO, AUTH user, protocol and ConnectionInfo. */
  connection: Record<string, unknown>;
  summary: MessageSummary;
  /** Structured SPF/DKIM/DMARC/ARC results (see pipeline/authenticate.ts), or null when not checked. */
  auth: Record<string, unknown> | null;
  size: number;
  sha256: string;
  /** Where copies were delivered. */
  copies: Array<{ mailbox: string; uid: number; userId: number }>;
}

export interface MessageListing {
  id: string;
  receivedAt: number;
  mailFrom: string;
  rcptTo: string[];
  from: string | null;
  to: string[];
  subject: string | null;
  date: string | null;
  messageId: string | null;
  size: number;
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  return toHex(await sha256(data));
}

export function splitChunks(raw: Uint8Array, size: number = BLOB_CHUNK_BYTES): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < raw.length; off += size) out.push(raw.subarray(off, off + size));
  if (out.length === 0) out.push(new Uint8Array(0));
  return out;
}

const p = sql.placeholder;

/** The statements every ingest runs, built once per store (see compiled.ts). */
function ingestStatements(db: Db) {
  return {
    findByKey: db
      .select({ id: ingests.id })
      .from(ingests)
      .where(eq(ingests.idempotencyKey, p("key")))
      .prepare(),
    blob: new Compiled<"id" | "size" | "sha256" | "chunkCount" | "structure">(
      db.insert(blobs).values({
        id: p("id"),
        size: p("size"),
        sha256: p("sha256"),
        chunkCount: p("chunkCount"),
        structure: p("structure"),
      }),
    ),
    chunk: new Compiled<"blobId" | "seq" | "data">(
      db.insert(blobChunks).values({ blobId: p("blobId"), seq: p("seq"), data: p("data") }),
    ),
    ingest: new Compiled<
      "id" | "idempotencyKey" | "receivedAt" | "envelope" | "connection" | "summary" | "auth"
    >(
      db.insert(ingests).values({
        id: p("id"),
        idempotencyKey: p("idempotencyKey"),
        blobId: p("id"),
        receivedAt: p("receivedAt"),
        envelope: p("envelope"),
        connection: p("connection"),
        summary: p("summary"),
        auth: p("auth"),
      }),
    ),
    // UIDs and modseqs are taken inside the batch: bump the mailbox, then read it back in the insert.
    bumpMailbox: new Compiled<"mailboxId">(
      db
        .update(mailboxes)
        .set({ uidNext: sql`${mailboxes.uidNext} + 1`, highestModseq: sql`${mailboxes.highestModseq} + 1` })
        .where(eq(mailboxes.id, p("mailboxId"))),
    ),
    message: new Compiled<"mailboxId" | "flags" | "internalDate" | "size" | "id">(
      db.insert(messages).values({
        mailboxId: p("mailboxId"),
        uid: sql`(select ${mailboxes.uidNext} - 1 from ${mailboxes} where ${mailboxes.id} = ${p("mailboxId")})`,
        modseq: sql`(select ${mailboxes.highestModseq} from ${mailboxes} where ${mailboxes.id} = ${p("mailboxId")})`,
        flags: p("flags"),
        internalDate: p("internalDate"),
        size: p("size"),
        ingestId: p("id"),
        blobId: p("id"),
      }),
    ),
  };
}

export class MessageStore {
  readonly #db: Db;
  readonly #driver: SqlDriver;
  readonly #maxBatchBytes: number;
  readonly #q: ReturnType<typeof ingestStatements>;
  /** Ingest batches go to the driver directly, with statements built once (see compiled.ts). */
  constructor(db: Db, driver: SqlDriver) {
    this.#db = db;
    this.#driver = driver;
    // The driver's limit on blob bytes per call (see SqlDriver); absent: no limit.
    this.#maxBatchBytes = driver.maxBatchBytes ?? Number.POSITIVE_INFINITY;
    this.#q = ingestStatements(db);
  }

  async findByKey(idempotencyKey: string): Promise<string | null> {
    const row = await this.#q.findByKey.get({ key: idempotencyKey });
    return row?.id ?? null;
  }

  /**
   * Stores the raw bytes, the transaction record and one message row per mailbox in a single batch,
   * so a crash leaves either all of it or none of it. UIDs and modseqs are taken inside the batch.
   */
  async ingest(input: IngestInput): Promise<IngestResult> {
    // No look-up first: the pipeline has just done it, and the unique index on the key decides anyway
    // (a batch that loses to an earlier one with the same key is rolled back; see the catch below).
    const id = input.id;
    const q = this.#q;
    const chunks = splitChunks(input.raw);
    const size = input.raw.length;
    const blob = q.blob.bind({
      id,
      size,
      sha256: await sha256Hex(input.raw),
      chunkCount: chunks.length,
      structure: input.structure ?? null,
    });
    const chunkRows = chunks.map((data, seq) => q.chunk.bind({ blobId: id, seq, data }));
    const records: SqlStatement[] = [
      q.ingest.bind({
        id,
        idempotencyKey: input.idempotencyKey,
        receivedAt: input.receivedAt,
        envelope: input.envelope,
        connection: input.connection,
        summary: input.summary,
        auth: input.auth,
      }),
      ...[...new Set(input.mailboxIds)].flatMap((mailboxId) => [
        q.bumpMailbox.bind({ mailboxId }),
        q.message.bind({ mailboxId, flags: [], internalDate: input.receivedAt, size, id }),
      ]),
    ];
    if (input.webhookEndpointIds?.length) {
      const rows = webhookDeliveryRows(id, input.webhookEndpointIds, input.receivedAt);
      const { sql: text, params } = this.#db.insert(webhookDeliveries).values(rows).toSQL();
      records.push({ sql: text, params, method: "run" });
    }
    const driver = this.#driver;
    // Small enough for one call: everything in one atomic batch.
    // Too big for the driver (D1): the blob and its chunks go first, in calls of at most
    // maxBatchBytes; then the transaction record and the mailbox rows in one atomic batch. Until that
    // last batch commits, the blob is referenced by nothing (invisible); if it fails, the blob is deleted.
    const split = size > this.#maxBatchBytes;
    let preWritten = false;
    try {
      if (!split) {
        await driver.batch([blob, ...chunkRows, ...records]);
      } else {
        const perCall = Math.max(1, Math.floor(this.#maxBatchBytes / BLOB_CHUNK_BYTES));
        await driver.batch([blob, ...chunkRows.slice(0, perCall)]);
        preWritten = true;
        for (let i = perCall; i < chunkRows.length; i += perCall) {
          await driver.batch(chunkRows.slice(i, i + perCall));
        }
        await driver.batch(records);
      }
    } catch (err) {
      if (preWritten)
        await this.#db
          .delete(blobs)
          .where(eq(blobs.id, id))
          .catch(() => {});
      // A concurrent retry with the same key won the race: the unique index rolled this batch back.
      const winner = await this.findByKey(input.idempotencyKey);
      if (winner) return { id: winner, duplicate: true };
      throw err;
    }
    return { id, duplicate: false };
  }

  async list(opts: { limit?: number; offset?: number } = {}): Promise<MessageListing[]> {
    const rows = await this.#db
      .select({
        id: ingests.id,
        receivedAt: ingests.receivedAt,
        envelope: ingests.envelope,
        summary: ingests.summary,
        size: blobs.size,
      })
      .from(ingests)
      .innerJoin(blobs, eq(blobs.id, ingests.blobId))
      .orderBy(desc(ingests.receivedAt), desc(ingests.id))
      .limit(Math.min(Math.max(opts.limit ?? 50, 1), 500))
      .offset(Math.max(opts.offset ?? 0, 0));
    return rows.map((r) => ({
      id: r.id,
      receivedAt: r.receivedAt,
      mailFrom: r.envelope.mailFrom,
      rcptTo: r.envelope.rcptTo,
      from: r.summary.from,
      to: r.summary.to,
      subject: r.summary.subject,
      date: r.summary.date,
      messageId: r.summary.messageId,
      size: r.size,
    }));
  }

  /** One stored transaction with everything the edge recorded about it; null when there is none. */
  async get(id: string): Promise<MessageDetail | null> {
    const row = await this.#db
      .select({ ingest: ingests, size: blobs.size, sha256: blobs.sha256 })
      .from(ingests)
      .innerJoin(blobs, eq(blobs.id, ingests.blobId))
      .where(eq(ingests.id, id))
      .get();
    if (!row) return null;
    const copies = await this.#db
      .select({ mailbox: mailboxes.name, uid: messages.uid, userId: mailboxes.userId })
      .from(messages)
      .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
      .where(eq(messages.ingestId, id));
    const { ingest } = row;
    return {
      id: ingest.id,
      receivedAt: ingest.receivedAt,
      envelope: ingest.envelope,
      connection: ingest.connection,
      summary: ingest.summary,
      auth: ingest.auth,
      size: row.size,
      sha256: row.sha256,
      copies,
    };
  }

  /** The stored raw message, reassembled from its chunks; null when there is no such message. */
  async raw(id: string): Promise<Uint8Array | null> {
    const blob = await this.#db.select().from(blobs).where(eq(blobs.id, id)).get();
    if (!blob) return null;
    const chunks = await this.#db
      .select({ data: blobChunks.data })
      .from(blobChunks)
      .where(eq(blobChunks.blobId, id))
      .orderBy(asc(blobChunks.seq));
    const out = new Uint8Array(blob.size);
    let off = 0;
    for (const c of chunks) {
      out.set(c.data, off);
      off += c.data.length;
    }
    if (off !== blob.size) throw new Error(`blob ${id} is incomplete: ${off} of ${blob.size} bytes`);
    return out;
  }
}
