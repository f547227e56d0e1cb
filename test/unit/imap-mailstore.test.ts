import { beforeEach, describe, expect, it } from "vitest";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { decodeBodies, encodeBodies, expandCompactFetch } from "../../src/contract-imap.ts";
import { createStore, type Store, StoreError } from "../../src/store/index.ts";

let store: Store;
let userId: number;
const enc = new TextEncoder();

beforeEach(async () => {
  const handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  store = createStore(handle.driver);
  await store.directory.addDomain("example.test");
  userId = (await store.directory.addUser("bob@example.test", "long enough password")).id;
});

const msg = (s: string) => enc.encode(`Subject: ${s}\r\n\r\nbody ${s}\r\n`);

describe("MailStore (IMAP's view of the store)", () => {
  it("appends with UIDs and modseqs, and reads metadata and raw bytes back", async () => {
    const a = await store.mail.append(userId, "inbox", msg("a"), ["\\Seen"], 1_700_000_000_000);
    const b = await store.mail.append(userId, "INBOX", msg("b"), [], null);
    expect([a.uid, b.uid]).toEqual([1, 2]);
    const box = await store.mail.mailbox(userId, "INBOX");
    expect(box).toMatchObject({ uidNext: 3, highestModseq: 3 });
    const meta = await store.mail.meta(box.id, [[1, 2]]);
    expect(meta.map((m) => [m.uid, m.modseq, m.flags, m.size])).toEqual([
      [1, 2, ["\\Seen"], 22],
      [2, 3, [], 22],
    ]);
    const blobs = await store.mail.blobs(meta.map((m) => m.blobId));
    expect(new TextDecoder().decode(blobs.get(meta[1]?.blobId as string))).toBe(
      "Subject: b\r\n\r\nbody b\r\n",
    );
    const counts = await store.mail.counts([box.id]);
    expect(counts.get(box.id)).toEqual({ messages: 2, unseen: 1, deleted: 0, size: 44 });
  });

  it("stores flags with one new modseq per command and honours UNCHANGEDSINCE", async () => {
    const box = await store.mail.mailbox(userId, "INBOX");
    for (const s of ["a", "b", "c"]) await store.mail.append(userId, "INBOX", msg(s), [], null);
    const r = await store.mail.store(box.id, [[1, 3]], "add", ["\\Flagged"], null);
    expect(r.highestModseq).toBe(5);
    expect(r.messages.map((m) => [m.uid, m.modseq, m.flags])).toEqual([
      [1, 5, ["\\Flagged"]],
      [2, 5, ["\\Flagged"]],
      [3, 5, ["\\Flagged"]],
    ]);
    const cond = await store.mail.store(box.id, [[1, 3]], "remove", ["\\Flagged"], 4);
    expect(cond.modified).toEqual([1, 2, 3]);
    const none = await store.mail.store(box.id, [[1, 1]], "add", ["\\Flagged"], null);
    expect(none.highestModseq).toBe(5);
    expect(await store.mail.changedSince(box.id, 4)).toHaveLength(3);
  });

  it("expunges only \\Deleted messages and never reuses their UIDs", async () => {
    const box = await store.mail.mailbox(userId, "INBOX");
    for (const s of ["a", "b", "c"])
      await store.mail.append(userId, "INBOX", msg(s), s === "c" ? [] : ["\\Deleted"], null);
    const partial = await store.mail.expunge(box.id, [[2, 3]]);
    expect(partial.expunged).toEqual([2]);
    expect((await store.mail.expunge(box.id, null)).expunged).toEqual([1]);
    expect(await store.mail.uids(box.id)).toEqual([3]);
    expect((await store.mail.append(userId, "INBOX", msg("d"), [], null)).uid).toBe(4);
  });

  it("copies and moves with pairwise UIDs", async () => {
    const box = await store.mail.mailbox(userId, "INBOX");
    for (const s of ["a", "b"]) await store.mail.append(userId, "INBOX", msg(s), ["$x"], null);
    const copied = await store.mail.copy(userId, box.id, [[1, 2]], "Trash", false);
    expect(copied).toMatchObject({ from: [1, 2], to: [1, 2] });
    const moved = await store.mail.copy(userId, box.id, [[2, 2]], "Trash", true);
    expect(moved).toMatchObject({ from: [2], to: [3] });
    expect(await store.mail.uids(box.id)).toEqual([1]);
    const trash = await store.mail.mailbox(userId, "Trash");
    expect((await store.mail.meta(trash.id, [[1, 9]])).map((m) => m.flags)).toEqual([["$x"], ["$x"], ["$x"]]);
  });

  it("creates (with parents), renames with children, and deletes mailboxes", async () => {
    await store.mail.create(userId, "Work/2024");
    await expect(store.mail.create(userId, "Work")).rejects.toBeInstanceOf(StoreError);
    const before = await store.mail.mailbox(userId, "Work/2024");
    await store.mail.rename(userId, "Work", "Jobs");
    const names = (await store.mail.list(userId)).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(["Jobs", "Jobs/2024"]));
    expect((await store.mail.mailbox(userId, "Jobs/2024")).uidValidity).toBe(before.uidValidity);
    await store.mail.delete(userId, "Jobs/2024");
    await store.mail.create(userId, "Jobs/2024");
    expect((await store.mail.mailbox(userId, "Jobs/2024")).uidValidity).toBeGreaterThan(before.uidValidity);
    await expect(store.mail.delete(userId, "INBOX")).rejects.toThrow(/INBOX/);
  });
});

describe("bodies frame (store API)", () => {
  it("answers metadata compactly (shared flag sets) with the same rows as meta()", async () => {
    for (const [i, f] of [["\\Seen"], [], ["\\Seen"], ["$x"], []].entries())
      await store.mail.append(userId, "INBOX", msg(`m${i}`), f, null);
    const box = await store.mail.mailbox(userId, "INBOX");
    const ranges: Array<[number, number]> = [
      [1, 2],
      [4, 5],
    ];
    const compact = await store.mail.compactMeta(box.id, ranges);
    expect(compact.flagSets).toEqual([["\\Seen"], [], ["$x"]]);
    expect(compact.rows.map((r) => r[2])).toEqual([0, 1, 2, 1]);
    const rows = expandCompactFetch(JSON.parse(JSON.stringify(compact)));
    const meta = await store.mail.meta(box.id, ranges);
    expect(rows).toEqual(meta.map((m) => ({ ...m, raw: null })));
    // Each row's flags are its own array, so a caller may change one without touching the others.
    expect(rows[1]?.flags).not.toBe(rows[3]?.flags);
    expect(() => expandCompactFetch({ flagSets: [[]], rows: [[1, 2, 5, 0, 1, "b"]] })).toThrow();
    expect(() => expandCompactFetch({ flagSets: [[""]], rows: [] })).toThrow();
    expect(() => expandCompactFetch({ flagSets: [], rows: [[1.5, 2, 0, 0, 1, "b"]] })).toThrow();
    expect(() => expandCompactFetch(null)).toThrow();
  });

  it("round-trips raw messages and refuses malformed frames", () => {
    const entries = [
      { uid: 1, blobId: "a", raw: enc.encode("Subject: a\r\n\r\nx\r\n") },
      { uid: 7, blobId: "b", raw: new Uint8Array([0, 255, 13, 10]) },
      { uid: 9, blobId: "c", raw: new Uint8Array(0) },
    ];
    const frame = encodeBodies(entries);
    expect(decodeBodies(frame)).toEqual(entries);
    expect(() => decodeBodies(frame.subarray(0, frame.length - 1))).toThrow(/truncated/);
    expect(() => decodeBodies(new Uint8Array([0, 0]))).toThrow();
    expect(() => decodeBodies(new Uint8Array([0, 0, 0, 2, 123, 125]))).toThrow(/index/);
  });
});
