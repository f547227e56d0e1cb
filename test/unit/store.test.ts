import { beforeEach, describe, expect, it } from "vitest";
import { migrateSqlite, openSqlite, readMigrations, type SqliteHandle } from "../../edge/sqlite.ts";
import { createStore, type Store, StoreError } from "../../src/store/index.ts";
import { splitChunks } from "../../src/store/messages.ts";
import { hashPassword, verifyPassword } from "../../src/store/password.ts";
import { BLOB_CHUNK_BYTES } from "../../src/store/schema.ts";

let handle: SqliteHandle;
let store: Store;
const enc = new TextEncoder();

async function fresh(): Promise<void> {
  handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  store = createStore(handle.driver);
}

const ingestInput = (key: string, mailboxIds: number[], raw = enc.encode("Subject: t\r\n\r\nbody\r\n")) => ({
  id: `ID${key}`.padEnd(26, "0").slice(0, 26),
  idempotencyKey: key,
  receivedAt: 1_700_000_000_000,
  envelope: { mailFrom: "a@sender.test", rcptTo: ["bob@example.test"] },
  connection: {},
  raw,
  summary: {
    from: "a@sender.test",
    to: ["bob@example.test"],
    cc: [],
    subject: "t",
    date: null,
    messageId: null,
    inReplyTo: null,
    attachmentCount: 0,
  },
  auth: null,
  mailboxIds,
});

const scalar = (sql: string, ...params: (string | number)[]) =>
  (handle.database.prepare(sql).get(...params) as Record<string, number>).n;

describe("migrations", () => {
  beforeEach(fresh);
  it("are recorded in d1_migrations like wrangler does, and re-applying is a no-op", async () => {
    expect(scalar("select count(*) as n from d1_migrations")).toBe(readMigrations().length);
    expect(await migrateSqlite(handle)).toEqual([]);
  });
  it("turn on WAL-safe settings and foreign keys", () => {
    expect(
      (handle.database.prepare("pragma foreign_keys").get() as { foreign_keys: number }).foreign_keys,
    ).toBe(1);
  });
});

describe("directory", () => {
  beforeEach(fresh);

  it("normalises domains and refuses duplicates and junk", async () => {
    expect(await store.directory.addDomain("Example.TEST.")).toMatchObject({ name: "example.test" });
    await expect(store.directory.addDomain("example.test")).rejects.toThrow(StoreError);
    await expect(store.directory.addDomain("not a domain")).rejects.toMatchObject({ code: "invalid" });
    await expect(store.directory.addDomain("-bad.test")).rejects.toMatchObject({ code: "invalid" });
  });

  it("creates a user with its address and default mailboxes atomically", async () => {
    await store.directory.addDomain("example.test");
    const u = await store.directory.addUser("Bob@Example.test", "password123");
    expect(u.login).toBe("bob@example.test");
    expect(scalar("select count(*) as n from mailboxes where user_id = ?", u.id)).toBe(5);
    await expect(store.directory.addUser("bob@example.test", "password123")).rejects.toMatchObject({
      code: "exists",
    });
    await expect(store.directory.addUser("x@nowhere.test", "password123")).rejects.toMatchObject({
      code: "not-found",
    });
    await expect(store.directory.addUser("y@example.test", "short")).rejects.toMatchObject({
      code: "invalid",
    });
  });

  it("authenticates with the right password only", async () => {
    await store.directory.addDomain("example.test");
    await store.directory.addUser("bob@example.test", "password123");
    expect(await store.directory.authenticate("BOB@example.test", "password123")).toMatchObject({
      login: "bob@example.test",
    });
    expect(await store.directory.authenticate("bob@example.test", "password124")).toBeNull();
    expect(await store.directory.authenticate("eve@example.test", "password123")).toBeNull();
  });

  it("resolves recipients: mailbox, plus-tag, alias, catch-all, discard, unknown, foreign, invalid", async () => {
    const d = await store.directory.addDomain("example.test");
    const bob = await store.directory.addUser("bob@example.test", "password123");
    const r = (a: string) => store.directory.resolveRecipient(a);
    expect(await r("bob@example.test")).toEqual({
      status: "local",
      address: "bob@example.test",
      userIds: [bob.id],
    });
    expect(await r("Bob+news@EXAMPLE.test")).toMatchObject({ status: "local", userIds: [bob.id] });
    expect(await r("alice@example.test")).toMatchObject({ status: "unknown-user" });
    expect(await r("bob@other.test")).toMatchObject({ status: "not-local" });
    expect(await r("bob")).toMatchObject({ status: "invalid" });
    // Open-relay shapes addressed to our domain never resolve to someone else's domain.
    expect(await r("bob%other.test@example.test")).toMatchObject({ status: "unknown-user" });
    expect(await r('"bob@other.test"@example.test')).toMatchObject({ status: "unknown-user" });

    handle.database.exec(`insert into addresses (domain_id, local_part, kind, target) values
      (${d.id}, 'team', 'alias', 'bob@example.test, nobody@example.test'),
      (${d.id}, 'loop', 'alias', 'loop@example.test'),
      (${d.id}, 'noreply', 'discard', null)`);
    expect(await r("team@example.test")).toMatchObject({ status: "local", userIds: [bob.id] });
    expect(await r("loop@example.test")).toMatchObject({ status: "unknown-user" });
    expect(await r("noreply@example.test")).toMatchObject({ status: "discard" });

    handle.database.exec(
      `insert into addresses (domain_id, local_part, kind, user_id) values (${d.id}, '*', 'mailbox', ${bob.id})`,
    );
    expect(await r("anything@example.test")).toMatchObject({ status: "local", userIds: [bob.id] });
  });
});

describe("message store", () => {
  let inbox: number;
  beforeEach(async () => {
    await fresh();
    await store.directory.addDomain("example.test");
    const bob = await store.directory.addUser("bob@example.test", "password123");
    [inbox] = (await store.directory.inboxes([bob.id])) as [number];
  });

  it("stores once per idempotency key and hands out increasing UIDs and modseqs", async () => {
    const first = await store.messages.ingest(ingestInput("key-00001", [inbox]));
    expect(first.duplicate).toBe(false);
    expect(await store.messages.ingest(ingestInput("key-00001", [inbox]))).toEqual({
      id: first.id,
      duplicate: true,
    });
    await store.messages.ingest(ingestInput("key-00002", [inbox, inbox]));
    const rows = handle.database
      .prepare("select uid, modseq from messages where mailbox_id = ? order by uid")
      .all(inbox);
    expect(rows).toEqual([
      { uid: 1, modseq: 2 },
      { uid: 2, modseq: 3 },
    ]);
    expect(
      handle.database.prepare("select uid_next, highest_modseq from mailboxes where id = ?").get(inbox),
    ).toEqual({ uid_next: 3, highest_modseq: 3 });
  });

  it("splits bodies into chunks of at most 512 KiB and reassembles them byte for byte", async () => {
    const raw = new Uint8Array(BLOB_CHUNK_BYTES * 2 + 17).map((_, i) => (i * 31) % 251);
    const { id } = await store.messages.ingest(ingestInput("key-big", [inbox], raw));
    expect(scalar("select count(*) as n from blob_chunks where blob_id = ?", id)).toBe(3);
    expect(scalar("select max(length(data)) as n from blob_chunks where blob_id = ?", id)).toBe(
      BLOB_CHUNK_BYTES,
    );
    expect(await store.messages.raw(id)).toEqual(raw);
    expect(await store.messages.raw("nope")).toBeNull();
  });

  it("writes nothing at all when any statement of the batch fails", async () => {
    await expect(store.messages.ingest(ingestInput("key-bad", [inbox, 999_999]))).rejects.toThrow();
    expect(scalar("select count(*) as n from ingests")).toBe(0);
    expect(scalar("select count(*) as n from blobs")).toBe(0);
    expect(scalar("select count(*) as n from messages")).toBe(0);
    expect(scalar("select uid_next as n from mailboxes where id = ?", inbox)).toBe(1);
  });

  it("lists newest first with the parsed summary", async () => {
    await store.messages.ingest(ingestInput("key-list", [inbox]));
    const [m] = await store.messages.list();
    expect(m).toMatchObject({
      subject: "t",
      from: "a@sender.test",
      mailFrom: "a@sender.test",
      rcptTo: ["bob@example.test"],
    });
  });
});

describe("helpers", () => {
  it("splitChunks covers every byte, with an empty body as one empty chunk", () => {
    expect(splitChunks(new Uint8Array(0))).toHaveLength(1);
    expect(splitChunks(new Uint8Array(10), 4).map((c) => c.length)).toEqual([4, 4, 2]);
  });
  it("password hashes verify and record their parameters", async () => {
    const h = await hashPassword("hunter22hunter");
    expect(h).toMatch(/^\$pbkdf2-sha256\$i=100000\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await verifyPassword("hunter22hunter", h)).toBe(true);
    expect(await verifyPassword("hunter22hunteR", h)).toBe(false);
    expect(await verifyPassword("x", "$md5$garbage")).toBe(false);
  });
});

describe("aliases", () => {
  beforeEach(fresh);
  it("one-to-many, catch-all and discard; external targets are refused with a clear message", async () => {
    await store.directory.addDomain("example.test");
    const bob = await store.directory.addUser("bob@example.test", "password123");
    const carol = await store.directory.addUser("carol@example.test", "password123");
    await store.directory.addAlias("team@example.test", ["bob@example.test", "Carol@Example.test"]);
    await store.directory.addAlias("*@example.test", ["bob@example.test"]);
    await store.directory.addAlias("noreply@example.test", "discard");
    const r = (a: string) => store.directory.resolveRecipient(a);
    expect(await r("team@example.test")).toMatchObject({ status: "local", userIds: [bob.id, carol.id] });
    expect(await r("team+x@example.test")).toMatchObject({ status: "local", userIds: [bob.id, carol.id] });
    expect(await r("whoever@example.test")).toMatchObject({ status: "local", userIds: [bob.id] });
    expect(await r("noreply@example.test")).toMatchObject({ status: "discard" });
    await expect(store.directory.addAlias("fwd@example.test", ["someone@gmail.test"])).rejects.toThrow(
      /someone@gmail\.test is not in one of our domains: forwarding to external addresses needs outbound delivery/,
    );
    await expect(store.directory.addAlias("team@example.test", ["bob@example.test"])).rejects.toMatchObject({
      code: "exists",
    });
  });
});
