/**
 * Message storage: one atomic batch per accepted transaction, idempotent per relay key.
 */
import { asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "./db.ts";
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
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function splitChunks(raw: Uint8Array, size: number = BLOB_CHUNK_BYTES): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < raw.length; off += size) out.push(raw.subarray(off, off + size));
  if (out.length === 0) out.push(new Uint8Array(0));
  return out;
}

export class MessageStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async findByKey(idempotencyKey: string): Promise<string | null> {
    const row = await this.#db
      .select({ id: ingests.id })
      .from(ingests)
      .where(eq(ingests.idempotencyKey, idempotencyKey))
      .get();
    return row?.id ?? null;
  }

  /**
   * Stores the raw bytes, the transaction record and one message row per mailbox in a single batch,
   * so a crash leaves either all of it or none of it. UIDs and modseqs are taken inside the batch.
   */
  async ingest(input: IngestInput): Promise<IngestResult> {
    const existing = await this.findByKey(input.idempotencyKey);
    if (existing) return { id: existing, duplicate: true };

    const id = input.id;
    const chunks = splitChunks(input.raw);
    const db = this.#db;
    const statements = [
      db.insert(blobs).values({
        id,
        size: input.raw.length,
        sha256: await sha256Hex(input.raw),
        chunkCount: chunks.length,
        structure: input.structure ?? null,
      }),
      ...chunks.map((data, seq) => db.insert(blobChunks).values({ blobId: id, seq, data })),
      db.insert(ingests).values({
        id,
        idempotencyKey: input.idempotencyKey,
        blobId: id,
        receivedAt: input.receivedAt,
        envelope: input.envelope,
        connection: input.connection,
        summary: input.summary,
        auth: input.auth,
      }),
      ...[...new Set(input.mailboxIds)].flatMap((mailboxId) => [
        db
          .update(mailboxes)
          .set({ uidNext: sql`${mailboxes.uidNext} + 1`, highestModseq: sql`${mailboxes.highestModseq} + 1` })
          .where(eq(mailboxes.id, mailboxId)),
        db.insert(messages).values({
          mailboxId,
          uid: sql`(select ${mailboxes.uidNext} - 1 from ${mailboxes} where ${mailboxes.id} = ${mailboxId})`,
          modseq: sql`(select ${mailboxes.highestModseq} from ${mailboxes} where ${mailboxes.id} = ${mailboxId})`,
          flags: [],
          internalDate: input.receivedAt,
          size: input.raw.length,
          ingestId: id,
          blobId: id,
        }),
      ]),
      ...(input.webhookEndpointIds?.length
        ? [
            db
              .insert(webhookDeliveries)
              .values(webhookDeliveryRows(id, input.webhookEndpointIds, input.receivedAt)),
          ]
        : []),
    ] as const;
    try {
      await db.batch(statements as unknown as Parameters<Db["batch"]>[0]);
    } catch (err) {
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
