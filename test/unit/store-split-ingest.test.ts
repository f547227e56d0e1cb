/**
 * A message bigger than the driver's maxBatchBytes (D1) is written in bounded calls: blob and chunks
 * first, then the records in one atomic batch; a failed last batch leaves no blob behind.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { migrateSqlite, openSqlite, type SqliteHandle } from "../../edge/sqlite.ts";
import { createStore, type SqlDriver, type Store } from "../../src/store/index.ts";
import { BLOB_CHUNK_BYTES } from "../../src/store/schema.ts";

let handle: SqliteHandle;
let store: Store;
let calls: number[]; // blob bytes bound per batch call

beforeEach(async () => {
  handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  calls = [];
  const driver: SqlDriver = {
    query: (s) => handle.driver.query(s),
    batch: (statements) => {
      let bytes = 0;
      for (const s of statements) for (const p of s.params) if (p instanceof Uint8Array) bytes += p.length;
      calls.push(bytes);
      return handle.driver.batch(statements);
    },
    maxBatchBytes: BLOB_CHUNK_BYTES * 2,
  };
  store = createStore(driver);
  await store.directory.addDomain("example.test");
  await store.directory.addUser("bob@example.test", "password-1");
  calls = [];
});

const count = (table: string) =>
  (handle.database.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;

const input = (key: string, raw: Uint8Array, mailboxIds: number[]) => ({
  id: `ID${key}`.padEnd(26, "0").slice(0, 26),
  idempotencyKey: key,
  receivedAt: 1_700_000_000_000,
  envelope: { mailFrom: "a@sender.test", rcptTo: ["bob@example.test"] },
  connection: {},
  raw,
  summary: {
    from: null,
    to: [],
    cc: [],
    subject: null,
    date: null,
    messageId: null,
    inReplyTo: null,
    references: [],
    attachmentCount: 0,
    attachments: [],
  },
  auth: null,
  mailboxIds,
});

describe("ingest of a message larger than the driver's batch budget", () => {
  it("binds at most maxBatchBytes per call and reassembles the exact bytes", async () => {
    const raw = Uint8Array.from({ length: BLOB_CHUNK_BYTES * 5 + 123 }, (_, i) => (i * 31) % 251);
    const [inbox] = await store.directory.inboxes([1]);
    const r = await store.messages.ingest(input("split-key-1", raw, [inbox!]));
    expect(r.duplicate).toBe(false);
    expect(calls.length).toBe(4); // 2 + 2 + 2 chunks, then the records
    expect(Math.max(...calls)).toBeLessThanOrEqual(BLOB_CHUNK_BYTES * 2);
    expect(await store.messages.raw(r.id)).toEqual(raw);
    expect((await store.messages.get(r.id))?.copies).toHaveLength(1);
  });

  it("a duplicate key answers with the first message and leaves no orphan blob", async () => {
    const raw = new Uint8Array(BLOB_CHUNK_BYTES * 3).fill(65);
    const [inbox] = await store.directory.inboxes([1]);
    const first = await store.messages.ingest(input("split-key-2", raw, [inbox!]));
    const again = await store.messages.ingest({
      ...input("split-key-2", raw, [inbox!]),
      id: "IDOTHER".padEnd(26, "0"),
    });
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(count("blobs")).toBe(1);
    expect(count("blob_chunks")).toBe(3);
    expect(count("ingests")).toBe(1);
  });
});
