/**
 * The IMAP store API, relay → edge, version 1. Every route is `POST /relay/v1/imap/<name>` with a JSON
 * body, authenticated with the relay secret like the rest of /relay/v1. `user` is the login the edge
 * itself returned from /relay/v1/auth; the relay is trusted to pass it back unchanged.
 *
 *   mailboxes  { user }                                → MailboxInfo[]
 *   create     { user, name }                          → { ok }
 *   delete     { user, name }                          → { ok }
 *   rename     { user, from, to }                      → { ok }
 *   subscribe  { user, name, subscribed }              → { ok }
 *   status     { user, names }                         → MailboxStatus[]
 *   select     { user, name, known? }                  → SelectResponse (state + every UID with flags,
 *                                                        or `unchanged` when the relay's snapshot is current)
 *   changes    { user, mailboxId, sinceModseq, vanished? } → ChangesResponse (IDLE/NOOP polling, QRESYNC)
 *   fetch      { user, mailboxId, uids, raw, structure?, compact? } → FetchRow[] (metadata; raw base64 and
 *              stored view when asked), or with `compact` a CompactFetchResponse
 *   store      { user, mailboxId, uids, op, flags, unchangedSince } → StoreResponse
 *   expunge    { user, mailboxId, uids | null }        → ExpungeResponse (only \Deleted messages go)
 *   append     { user, mailbox, flags, internalDate, raw } → AppendResponse
 *   copy       { user, mailboxId, uids, to, move }     → CopyResponse
 *   watch      { mailboxes: [{ user, mailboxId }] }     → WatchResponse (one call for every idling session)
 *   quota      { user }                                → QuotaResponse (STORAGE used and limit, bytes)
 *   bodies     { user, mailboxId, uids }               → application/octet-stream, see encodeBodies:
 *              raw messages without base64 or JSON around them (FETCH of bodies, SEARCH BODY/TEXT)
 *
 * UID lists travel as compact sequence sets ("1:500,502"). Failures: 404 { error: "nonexistent" },
 * 409 { error: "exists" | "modified" | "overquota" }, 400 { error: "bad request" | message }.
 */
import { z } from "zod";

export const IMAP_PATH = "/relay/v1/imap";

const name = z.string().min(1).max(1024);
const user = z.string().min(1).max(512);
const uidSet = z
  .string()
  .max(1_000_000)
  .regex(/^(\d+(:\d+)?(,\d+(:\d+)?)*)?$/);
const flag = z.string().min(1).max(256);

export const MailboxInfoSchema = z.object({
  id: z.number().int(),
  name,
  specialUse: z.string().nullable(),
  subscribed: z.boolean(),
});
export type MailboxInfo = z.infer<typeof MailboxInfoSchema>;

export const MailboxStatusSchema = z.object({
  name,
  id: z.number().int(),
  messages: z.number().int(),
  unseen: z.number().int(),
  deleted: z.number().int(),
  size: z.number().int(),
  uidNext: z.number().int(),
  uidValidity: z.number().int(),
  highestModseq: z.number().int(),
});
export type MailboxStatus = z.infer<typeof MailboxStatusSchema>;

export const UserRequestSchema = z.object({ user });
export const NameRequestSchema = z.object({ user, name });
export const RenameRequestSchema = z.object({ user, from: name, to: name });
export const SubscribeRequestSchema = z.object({ user, name, subscribed: z.boolean() });
export const StatusRequestSchema = z.object({ user, names: z.array(name).max(1000) });

export const MessageStateSchema = z.object({
  uid: z.number().int(),
  modseq: z.number().int(),
  flags: z.array(flag),
});
export type MessageState = z.infer<typeof MessageStateSchema>;

export const SelectRequestSchema = z.object({
  user,
  name,
  /** The snapshot the relay already holds: when the mailbox is still at it, no state is sent. */
  known: z
    .object({ id: z.number().int(), uidValidity: z.number().int(), highestModseq: z.number().int() })
    .optional(),
});

export const SelectResponseSchema = z.object({
  /** True when `known` still describes the mailbox: messages and flagSets are then empty. */
  unchanged: z.boolean().optional(),
  id: z.number().int(),
  name,
  uidValidity: z.number().int(),
  uidNext: z.number().int(),
  highestModseq: z.number().int(),
  /**
   * Every message, ascending UID, compactly: [uid, modseq, index into flagSets]. A mailbox has few
   * distinct flag combinations, so 10,000 messages are a few hundred kilobytes, not megabytes.
   */
  messages: z.array(z.tuple([z.number().int(), z.number().int(), z.number().int().nonnegative()])),
  flagSets: z.array(z.array(flag)),
  /** Every flag in use, besides the system flags. */
  keywords: z.array(flag),
});
export type SelectResponse = z.infer<typeof SelectResponseSchema>;

export const ChangesRequestSchema = z.object({
  user,
  mailboxId: z.number().int(),
  sinceModseq: z.number().int().nonnegative(),
  /** QRESYNC: also list the UIDs expunged after sinceModseq. */
  vanished: z.boolean().optional(),
});
export const ChangesResponseSchema = z.object({
  uidNext: z.number().int(),
  highestModseq: z.number().int(),
  /** Messages whose modseq is above sinceModseq (new and changed). */
  changed: z.array(MessageStateSchema),
  /** All UIDs now in the mailbox (only when highestModseq moved), as a set: expunges show up as gaps. */
  uids: uidSet.nullable(),
  /** When asked: UIDs expunged after sinceModseq (from the store's tombstones). */
  vanished: uidSet.optional(),
});
export type ChangesResponse = z.infer<typeof ChangesResponseSchema>;

export const FetchRequestSchema = z.object({
  user,
  mailboxId: z.number().int(),
  uids: uidSet,
  raw: z.boolean(),
  /** Also return each message's stored IMAP view (src/imap/structure.ts), when it has one. */
  structure: z.boolean().optional(),
  /** Metadata only (raw and structure false): answer a CompactFetchResponse instead of rows of objects. */
  compact: z.boolean().optional(),
});
export const FetchRowSchema = z.object({
  uid: z.number().int(),
  modseq: z.number().int(),
  flags: z.array(flag),
  internalDate: z.number().int(),
  size: z.number().int(),
  blobId: z.string(),
  /** base64 of the message when asked for. */
  raw: z.string().nullable(),
  /**
   * The stored IMAP view (src/imap/structure.ts), when asked for: embedded as JSON, not as a string,
   * so it is parsed once; null for blobs stored without one. The relay validates it when it loads it.
   */
  structure: z.unknown().optional(),
});
export type FetchRow = z.infer<typeof FetchRowSchema>;
export const FetchResponseSchema = z.object({ rows: z.array(FetchRowSchema) });

/**
 * The fetch route's answer to `compact`: [uid, modseq, index into flagSets, internalDate, size, blobId]
 * per message. A mailbox has few distinct flag combinations, and arrays are a fraction of the bytes,
 * the JSON parse and the validation of 10,000 objects.
 */
export interface CompactFetchResponse {
  flagSets: string[][];
  rows: Array<[number, number, number, number, number, string]>;
}

/** Validates a CompactFetchResponse and expands it to rows (raw null); throws on a malformed one. */
export function expandCompactFetch(json: unknown): FetchRow[] {
  const c = json as CompactFetchResponse | null;
  if (!c || !Array.isArray(c.flagSets) || !Array.isArray(c.rows)) throw new Error("bad compact fetch");
  for (const set of c.flagSets)
    if (!Array.isArray(set) || !set.every((f) => typeof f === "string" && f.length > 0 && f.length <= 256))
      throw new Error("bad flag set");
  const int = (v: unknown): v is number => Number.isSafeInteger(v);
  return c.rows.map((r): FetchRow => {
    if (!Array.isArray(r) || r.length !== 6) throw new Error("bad compact row");
    const [uid, modseq, f, internalDate, size, blobId] = r;
    const flags = c.flagSets[f];
    if (!int(uid) || !int(modseq) || !flags || !int(internalDate) || !int(size) || typeof blobId !== "string")
      throw new Error("bad compact row");
    // A copy per row: callers may replace or extend a row's flags.
    return { uid, modseq, flags: flags.slice(), internalDate, size, blobId, raw: null };
  });
}

export const StoreRequestSchema = z.object({
  user,
  mailboxId: z.number().int(),
  uids: uidSet,
  op: z.enum(["add", "remove", "replace"]),
  flags: z.array(flag).max(100),
  unchangedSince: z.number().int().nonnegative().nullable(),
});
export const StoreResponseSchema = z.object({
  highestModseq: z.number().int(),
  /** The new state of every message the command addressed (changed or not). */
  messages: z.array(MessageStateSchema),
  /** UIDs not changed because of UNCHANGEDSINCE. */
  modified: uidSet,
});
export type StoreResponse = z.infer<typeof StoreResponseSchema>;

export const ExpungeRequestSchema = z.object({ user, mailboxId: z.number().int(), uids: uidSet.nullable() });
export const ExpungeResponseSchema = z.object({ highestModseq: z.number().int(), expunged: uidSet });
export type ExpungeResponse = z.infer<typeof ExpungeResponseSchema>;

export const AppendRequestSchema = z.object({
  user,
  mailbox: name,
  flags: z.array(flag).max(100),
  internalDate: z.number().int().nullable(),
  /** base64 */
  raw: z.string(),
});
export const AppendResponseSchema = z.object({ uidValidity: z.number().int(), uid: z.number().int() });
export type AppendResponse = z.infer<typeof AppendResponseSchema>;

export const CopyRequestSchema = z.object({
  user,
  mailboxId: z.number().int(),
  uids: uidSet,
  to: name,
  move: z.boolean(),
});
export const CopyResponseSchema = z.object({
  uidValidity: z.number().int(),
  /** Source and destination UIDs, pairwise in the same order. */
  from: z.array(z.number().int()),
  to: z.array(z.number().int()),
  /** For MOVE: the source mailbox's highest modseq after the removal. */
  highestModseq: z.number().int(),
});
export type CopyResponse = z.infer<typeof CopyResponseSchema>;

/** QUOTA (RFC 9208): one STORAGE root per user; limitBytes null when unlimited. */
export const QuotaResponseSchema = z.object({
  usedBytes: z.number().int(),
  limitBytes: z.number().int().nullable(),
});
export type QuotaResponse = z.infer<typeof QuotaResponseSchema>;

export const BodiesRequestSchema = z.object({ user, mailboxId: z.number().int(), uids: uidSet });

export interface BodyEntry {
  uid: number;
  blobId: string;
  raw: Uint8Array;
}

/**
 * The bodies route's binary framing: a 4-byte big-endian length, that many bytes of JSON index
 * ([[uid, blobId, size], ...]), then every message's bytes back to back in index order.
 */
export function encodeBodies(entries: BodyEntry[]): Uint8Array {
  const index = new TextEncoder().encode(JSON.stringify(entries.map((e) => [e.uid, e.blobId, e.raw.length])));
  const total = 4 + index.length + entries.reduce((n, e) => n + e.raw.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, index.length);
  out.set(index, 4);
  let off = 4 + index.length;
  for (const e of entries) {
    out.set(e.raw, off);
    off += e.raw.length;
  }
  return out;
}

/** Inverse of encodeBodies; throws on a malformed frame. */
export function decodeBodies(bytes: Uint8Array): BodyEntry[] {
  if (bytes.length < 4) throw new Error("short bodies frame");
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const index = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len))) as unknown;
  if (!Array.isArray(index)) throw new Error("bad bodies index");
  const out: BodyEntry[] = [];
  let off = 4 + len;
  for (const item of index) {
    const [uid, blobId, size] = item as [number, string, number];
    if (!Number.isSafeInteger(uid) || typeof blobId !== "string" || !Number.isSafeInteger(size) || size < 0)
      throw new Error("bad bodies index entry");
    if (off + size > bytes.length) throw new Error("truncated bodies frame");
    // A copy, so a cached body does not keep the whole frame alive.
    out.push({ uid, blobId, raw: bytes.slice(off, off + size) });
    off += size;
  }
  return out;
}

export const OkResponseSchema = z.object({ ok: z.literal(true) });
export const ImapErrorSchema = z.object({ error: z.string() });

export const WatchRequestSchema = z.object({
  mailboxes: z.array(z.object({ user, mailboxId: z.number().int() })).max(10_000),
});
export const WatchResponseSchema = z.object({
  /** Mailboxes that exist and belong to the given user; the others are left out. */
  mailboxes: z.array(z.object({ mailboxId: z.number().int(), highestModseq: z.number().int() })),
});
export type WatchResponse = z.infer<typeof WatchResponseSchema>;
