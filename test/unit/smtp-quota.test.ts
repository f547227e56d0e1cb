/**
 * SMTP delivery honours the same quota as IMAP APPEND: the edge's RCPT decision is 452 4.2.2 (mailbox
 * full, RFC 3463) once every user an address delivers to is at or over quota, and 250 again once the
 * user has room.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../edge/app.ts";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import type { RecipientResponse } from "../../src/contract.ts";
import { createStore, type Store } from "../../src/store/index.ts";
import { testTransaction } from "../support/transaction.ts";

let store: Store;
let db: { prepare(sql: string): { run(...args: unknown[]): unknown } };
let bobId = 0;

beforeEach(async () => {
  const handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  db = handle.database as never;
  store = createStore(handle.driver);
  await store.directory.addDomain("example.test");
  bobId = (await store.directory.addUser("bob@example.test", "long enough password")).id;
  await store.directory.addUser("carol@example.test", "long enough password");
});

async function rcpt(to: string, quotaBytes: number | null): Promise<RecipientResponse> {
  const app = createEdgeApp({ store, relaySecret: "relay-secret", adminToken: "admin", quotaBytes });
  const { session } = testTransaction({ mailFrom: "a@sender.test", rcptTo: [to] });
  const res = await app.fetch(
    new Request("https://edge.test/relay/v1/recipient", {
      method: "POST",
      headers: { authorization: "Bearer relay-secret", "content-type": "application/json" },
      body: JSON.stringify({ mailFrom: "a@sender.test", rcptTo: to, session }),
    }),
  );
  expect(res.status).toBe(200);
  return (await res.json()) as RecipientResponse;
}

const fill = (bytes: number) =>
  store.mail.append(
    bobId,
    "INBOX",
    new TextEncoder().encode(`Subject: x\r\n\r\n${"y".repeat(bytes)}`),
    [],
    null,
  );

describe("quota at SMTP RCPT", () => {
  it("refuses 452 4.2.2 for a user at or over the default quota, and accepts others", async () => {
    await fill(1000);
    expect((await rcpt("bob@example.test", 100_000)).reply.code).toBe(250);
    const full = await rcpt("bob@example.test", 1000);
    expect(full.accept).toBe(false);
    expect(full.reply).toMatchObject({ code: 452, enhanced: "4.2.2" });
    expect((await rcpt("carol@example.test", 1000)).reply.code).toBe(250);
    expect((await rcpt("bob@example.test", null)).reply.code).toBe(250);
  });

  it("uses the user's own quota over the default, and accepts again after an expunge", async () => {
    await fill(1000);
    db.prepare("UPDATE users SET quota_bytes = 500 WHERE id = ?").run(bobId);
    expect((await rcpt("bob@example.test", 100_000)).reply.code).toBe(452);
    db.prepare("UPDATE users SET quota_bytes = 100000 WHERE id = ?").run(bobId);
    expect((await rcpt("bob@example.test", 10)).reply.code).toBe(250);
    db.prepare("UPDATE users SET quota_bytes = 500 WHERE id = ?").run(bobId);
    const box = await store.mail.mailbox(bobId, "INBOX");
    await store.mail.store(box.id, [[1, 1]], "add", ["\\Deleted"], null);
    await store.mail.expunge(box.id, null);
    expect((await rcpt("bob@example.test", 100_000)).reply.code).toBe(250);
  });
});
