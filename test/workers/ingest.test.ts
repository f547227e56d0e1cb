/**
 * The edge inside workerd with a local D1: a message goes in through the same route the relay uses
 * (/relay/v1/messages) and is read back from D1, through the admin API and straight from the tables.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeTransaction, type Transaction } from "../../src/contract.ts";
import { testTransaction } from "../support/transaction.ts";

const relay = { authorization: `Bearer ${env.RELAY_SECRET}` };
const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`https://edge.test${path}`, init));

function transaction(rcpt: string): Transaction {
  return testTransaction({ mailFrom: "alice@sender.test", rcptTo: [rcpt] });
}

const message =
  "From: Alice <alice@sender.test>\r\nTo: bob@d1.test\r\nSubject: hello from workerd\r\n\r\nBody line\r\n";

describe("edge on workerd + D1", () => {
  beforeAll(async () => {
    expect(
      (
        await call("/api/domains", {
          method: "POST",
          headers: admin,
          body: JSON.stringify({ name: "d1.test" }),
        })
      ).status,
    ).toBe(201);
    const user = await call("/api/users", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ address: "bob@d1.test", password: "correct horse" }),
    });
    expect(user.status).toBe(201);
  });

  it("rejects the relay API without the relay secret", async () => {
    const res = await call("/relay/v1/recipient", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
  });

  it("decides recipients at RCPT time", async () => {
    const ask = async (rcptTo: string) => {
      const res = await call("/relay/v1/recipient", {
        method: "POST",
        headers: relay,
        body: JSON.stringify({ mailFrom: "alice@sender.test", rcptTo, session: transaction(rcptTo).session }),
      });
      return ((await res.json()) as { reply: { code: number; enhanced: string } }).reply;
    };
    expect(await ask("bob@d1.test")).toMatchObject({ code: 250 });
    expect(await ask("bob+tag@d1.test")).toMatchObject({ code: 250 });
    expect(await ask("nobody@d1.test")).toMatchObject({ code: 550, enhanced: "5.1.1" });
    expect(await ask("someone@elsewhere.test")).toMatchObject({ code: 554, enhanced: "5.7.1" });
  });

  it("ingests through the relay route, stores once per key, and reads back from D1", async () => {
    const send = () =>
      call("/relay/v1/messages", {
        method: "POST",
        headers: {
          ...relay,
          "content-type": "message/rfc822",
          "mxedge-transaction": encodeTransaction(transaction("bob@d1.test")),
          "idempotency-key": "workers-test-key-1",
        },
        body: message,
      });
    const first = await send();
    expect(first.status).toBe(200);
    const stored = (await first.json()) as { id: string; duplicate: boolean; reply: { code: number } };
    expect(stored.duplicate).toBe(false);
    expect(stored.reply.code).toBe(250);

    const again = (await (await send()).json()) as { id: string; duplicate: boolean };
    expect(again).toMatchObject({ id: stored.id, duplicate: true });

    const list = (await (await call("/api/messages", { headers: admin })).json()) as {
      messages: Array<{ id: string; subject: string; from: string; to: string[] }>;
    };
    expect(list.messages).toHaveLength(1);
    expect(list.messages[0]).toMatchObject({
      id: stored.id,
      subject: "hello from workerd",
      from: "Alice <alice@sender.test>",
      to: ["bob@d1.test"],
    });

    const raw = new TextDecoder().decode(
      await (await call(`/api/messages/${stored.id}/raw`, { headers: admin })).arrayBuffer(),
    );
    expect(raw).toMatch(/^Received: from mail\.sender\.test \(\[192\.0\.2\.7\]\)/);
    expect(raw.endsWith(message)).toBe(true);

    // Straight from D1: one row per mailbox copy, with UID 1 in bob's INBOX.
    const rows = await env.DB.prepare(
      "select m.uid, b.name from messages m join mailboxes b on b.id = m.mailbox_id where m.ingest_id = ?",
    )
      .bind(stored.id)
      .all<{ uid: number; name: string }>();
    expect(rows.results).toEqual([{ uid: 1, name: "INBOX" }]);
  });

  it("stores a message larger than one 512 KiB chunk intact", async () => {
    const big = `Subject: big\r\n\r\n${"0123456789abcdef".repeat(80_000)}\r\n`; // ~1.25 MiB → 3 chunks
    const res = await call("/relay/v1/messages", {
      method: "POST",
      headers: {
        ...relay,
        "mxedge-transaction": encodeTransaction(transaction("bob@d1.test")),
        "idempotency-key": "workers-big-1",
      },
      body: big,
    });
    const { id } = (await res.json()) as { id: string };
    const chunks = await env.DB.prepare("select count(*) as n from blob_chunks where blob_id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(chunks?.n).toBe(3);
    const raw = new TextDecoder().decode(
      await (await call(`/api/messages/${id}/raw`, { headers: admin })).arrayBuffer(),
    );
    expect(raw.endsWith(big)).toBe(true);
  });

  it("refuses a body over the size limit with 552 and stores nothing", async () => {
    const res = await call("/relay/v1/messages", {
      method: "POST",
      headers: {
        ...relay,
        "mxedge-transaction": encodeTransaction(transaction("bob@d1.test")),
        "idempotency-key": "workers-huge-1",
      },
      body: new Uint8Array(26 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { reply: { code: number } }).reply.code).toBe(552);
    const n = await env.DB.prepare(
      "select count(*) as n from ingests where idempotency_key = 'workers-huge-1'",
    ).first<{ n: number }>();
    expect(n?.n).toBe(0);
  });
});
