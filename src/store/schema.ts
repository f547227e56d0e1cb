/**
 * The mxedge store schema (drizzle-orm, SQLite dialect: D1 in production, node:sqlite embedded).
 *
 * Layout:
 *   domains → addresses (user mailbox, alias, catch-all, discard) → users → mailboxes → messages
 *   raw MIME lives once per ingested transaction in `blobs`, split into `blob_chunks` of ≤ 512 KiB
 *   (D1 rows are capped near 1 MB), and every mailbox copy of a message points at the same blob.
 *
 * Migrations are generated from this file by drizzle-kit (`npm run db:generate`) into migrations/.
 */
import { sql } from "drizzle-orm";
import {
  customType,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/** Bytes stored as a SQLite BLOB, surfaced as a Uint8Array on every runtime. */
export const bytes = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return "blob";
  },
  fromDriver(value: unknown): Uint8Array {
    return toBytes(value);
  },
  toDriver(value: Uint8Array): Uint8Array {
    return value;
  },
});

/** D1 returns BLOBs as number arrays or ArrayBuffers, node:sqlite as Uint8Array: normalise. */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  throw new TypeError(`expected a BLOB, got ${typeof value}`);
}

const json = <T>() =>
  customType<{ data: T; driverData: string }>({
    dataType() {
      return "text";
    },
    toDriver(value: T): string {
      return JSON.stringify(value);
    },
    fromDriver(value: string): T {
      return JSON.parse(value) as T;
    },
  });

const createdAt = () =>
  integer("created_at", { mode: "number" }).notNull().default(sql`(unixepoch() * 1000)`);

export const domains = sqliteTable("domains", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** Lower-case ASCII (A-label) domain name. */
  name: text("name").notNull().unique(),
  /** Plus-addressing (`user+tag@domain`) resolves to `user@domain`. */
  plusAddressing: integer("plus_addressing", { mode: "boolean" }).notNull().default(true),
  /** Per-domain settings (MTA-STS mode, DMARC report address, …); see src/admin/domain-settings.ts. */
  settings: json<Record<string, unknown>>()("settings"),
  createdAt: createdAt(),
});

export type DkimAlgorithm = "rsa-2048" | "ed25519";

/**
 * DKIM signing keys per domain. The private key is encrypted at rest (AES-GCM with a key from a Worker
 * secret or an environment variable); the public half is what the DNS TXT record publishes.
 * Rotation adds a new active key and retires the old one, which stays published until removed.
 */
export const dkimKeys = sqliteTable(
  "dkim_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id, { onDelete: "cascade" }),
    selector: text("selector").notNull(),
    algorithm: text("algorithm").$type<DkimAlgorithm>().notNull(),
    /** Encrypted PKCS#8 private key (envelope format defined by the key-encryption module). */
    privateKey: text("private_key").notNull(),
    /** Base64 public key as published in `p=`. */
    publicKey: text("public_key").notNull(),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    createdAt: createdAt(),
    retiredAt: integer("retired_at"),
  },
  (t) => [uniqueIndex("dkim_keys_domain_selector").on(t.domainId, t.selector)],
);

export const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** Login name: the user's primary address, lower-cased. */
  login: text("login").notNull().unique(),
  /** PHC-style hash, e.g. `$pbkdf2-sha256$i=…$salt$hash`; other schemes are kept for migrated users. */
  passwordHash: text("password_hash").notNull(),
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  /** IMAP QUOTA (RFC 9208) STORAGE limit in bytes; null means the server default. */
  quotaBytes: integer("quota_bytes"),
  createdAt: createdAt(),
});

export type AddressKind = "mailbox" | "alias" | "discard";

/**
 * Every deliverable address. `localPart = "*"` is the domain's catch-all.
 * kind=mailbox delivers to `userId`'s INBOX; kind=alias expands to `target` (comma-separated addresses);
 * kind=discard accepts and drops (explicitly configured, never implicit).
 */
export const addresses = sqliteTable(
  "addresses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id, { onDelete: "cascade" }),
    localPart: text("local_part").notNull(),
    kind: text("kind").$type<AddressKind>().notNull(),
    userId: integer("user_id").references(() => users.id, { onDelete: "cascade" }),
    target: text("target"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("addresses_domain_local").on(t.domainId, t.localPart)],
);

export const mailboxes = sqliteTable(
  "mailboxes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Full hierarchical name with "/" as the delimiter; "INBOX" is canonical upper-case. */
    name: text("name").notNull(),
    /** RFC 6154 special-use attribute, e.g. "\\Sent". */
    specialUse: text("special_use"),
    subscribed: integer("subscribed", { mode: "boolean" }).notNull().default(true),
    uidValidity: integer("uid_validity").notNull(),
    /** The UID the next appended message gets. */
    uidNext: integer("uid_next").notNull().default(1),
    /** RFC 7162 CONDSTORE: the highest mod-sequence of any change in this mailbox. */
    highestModseq: integer("highest_modseq").notNull().default(1),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("mailboxes_user_name").on(t.userId, t.name)],
);

/** Raw RFC 5322 message bytes, stored once per ingest and shared by every mailbox copy. */
export const blobs = sqliteTable("blobs", {
  id: text("id").primaryKey(),
  size: integer("size").notNull(),
  sha256: text("sha256").notNull(),
  chunkCount: integer("chunk_count").notNull(),
  /**
   * The message's IMAP view computed once at ingest (ENVELOPE, BODYSTRUCTURE, section offsets, line
   * counts), as JSON; null for blobs stored before it was recorded, which IMAP computes on demand.
   */
  structure: text("structure"),
  createdAt: createdAt(),
});

/** 512 KiB is the most one chunk may hold (D1's row limit is ~1 MB). */
export const BLOB_CHUNK_BYTES = 512 * 1024;

export const blobChunks = sqliteTable(
  "blob_chunks",
  {
    blobId: text("blob_id")
      .notNull()
      .references(() => blobs.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    data: bytes("data").notNull(),
  },
  (t) => [primaryKey({ columns: [t.blobId, t.seq] })],
);

export interface StoredEnvelope {
  mailFrom: string;
  rcptTo: string[];
}

/** Summary parsed from the headers (postal-mime), kept for listings, search and the API. */
export interface MessageSummary {
  from: string | null;
  to: string[];
  cc: string[];
  subject: string | null;
  date: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  /** Message-IDs from References, oldest first (absent in rows stored before it was recorded). */
  references?: string[];
  attachmentCount: number;
  /** Name, type and decoded size of each attachment (absent in rows stored before it was recorded). */
  attachments?: Array<{
    filename: string | null;
    mimeType: string;
    size: number;
    disposition: string | null;
  }>;
}

/**
 * One SMTP transaction (or APPEND) accepted into the store. The idempotency key makes a retried
 * relay request store the message at most once.
 */
export const ingests = sqliteTable(
  "ingests",
  {
    id: text("id").primaryKey(),
    idempotencyKey: text("idempotency_key").notNull().unique(),
    blobId: text("blob_id")
      .notNull()
      .references(() => blobs.id),
    receivedAt: integer("received_at").notNull(),
    envelope: json<StoredEnvelope>()("envelope").notNull(),
    /** The relay's ConnectionInfo (client IP, HELO, TLS, proxy peer). */
    connection: json<Record<string, unknown>>()("connection").notNull(),
    summary: json<MessageSummary>()("summary").notNull(),
    /** Structured SPF/DKIM/DMARC/ARC results (filled by the pipeline). */
    auth: json<Record<string, unknown>>()("auth"),
  },
  (t) => [index("ingests_received").on(t.receivedAt)],
);

/** A message as it sits in one mailbox (IMAP's view): UID, modseq, flags. */
export const messages = sqliteTable(
  "messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
    /** System and keyword flags, e.g. ["\\Seen","$Forwarded"]. */
    flags: json<string[]>()("flags").notNull(),
    internalDate: integer("internal_date").notNull(),
    size: integer("size").notNull(),
    ingestId: text("ingest_id")
      .notNull()
      .references(() => ingests.id),
    blobId: text("blob_id")
      .notNull()
      .references(() => blobs.id),
  },
  (t) => [
    uniqueIndex("messages_mailbox_uid").on(t.mailboxId, t.uid),
    index("messages_mailbox_modseq").on(t.mailboxId, t.modseq),
    index("messages_ingest").on(t.ingestId),
  ],
);

/**
 * RFC 7162 QRESYNC: which UIDs left a mailbox at which mod-sequence, so `VANISHED (EARLIER)` can tell a
 * resyncing client what it missed.
 */
export const expunged = sqliteTable(
  "expunged",
  {
    mailboxId: integer("mailbox_id")
      .notNull()
      .references(() => mailboxes.id, { onDelete: "cascade" }),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.mailboxId, t.uid] }),
    index("expunged_mailbox_modseq").on(t.mailboxId, t.modseq),
  ],
);

export type WebhookFormat = "json" | "raw";

export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  url: text("url").notNull(),
  /** Standard Webhooks secret (`whsec_…`). */
  secret: text("secret").notNull(),
  format: text("format").$type<WebhookFormat>().notNull().default("json"),
  /** Optional filters (domains, addresses) as JSON. */
  filters: json<Record<string, unknown>>()("filters"),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  createdAt: createdAt(),
});

export type DeliveryState = "pending" | "delivered" | "failed" | "dead";

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: integer("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    ingestId: text("ingest_id")
      .notNull()
      .references(() => ingests.id),
    state: text("state").$type<DeliveryState>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_deliveries_due").on(t.state, t.nextAttemptAt)],
);

/** Every attempt of every webhook delivery: the delivery log the API and CLI show. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    at: integer("at").notNull(),
    /** HTTP status, or null when no response came (timeout, refused, blocked target). */
    status: integer("status"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
    /** The first bytes of the response body (capped). */
    responseSnippet: text("response_snippet"),
  },
  (t) => [index("webhook_attempts_delivery").on(t.deliveryId)],
);

/**
 * API tokens scoped to one domain, for the admin API and the dashboard: whoever holds one sees and
 * changes only that domain. Only the token's SHA-256 is kept; the token itself is shown once.
 */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("api_tokens_hash").on(t.tokenHash)],
);

export type SessionKind = "admin" | "token" | "user";

/**
 * Dashboard sign-in sessions. The cookie carries a random value; the row is keyed by its SHA-256. A
 * session ends when it expires, on sign-out, or when what it was opened with changes (`fingerprint`:
 * the admin token, the scoped token, or the user's password hash).
 */
export const dashboardSessions = sqliteTable(
  "dashboard_sessions",
  {
    id: text("id").primaryKey(),
    kind: text("kind").$type<SessionKind>().notNull(),
    /** api_tokens.id for kind=token, users.id for kind=user, "admin" for the admin token. */
    subject: text("subject").notNull(),
    fingerprint: text("fingerprint").notNull(),
    /** The CSRF token every form of this session carries. */
    csrf: text("csrf").notNull(),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("dashboard_sessions_expires").on(t.expiresAt)],
);

/**
 * Per-hour counts the store does not otherwise keep, per recipient domain: refusals (RCPT or DATA; the
 * refused message is not stored) and forwards (kept for the forwarding stage). Received mail is counted
 * from `ingests`.
 */
export const trafficHourly = sqliteTable(
  "traffic_hourly",
  {
    /** Start of the hour, ms since the epoch. */
    hour: integer("hour").notNull(),
    domain: text("domain").notNull(),
    refused: integer("refused").notNull().default(0),
    forwarded: integer("forwarded").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.hour, t.domain] })],
);
