/**
 * The IMAP store API (/relay/v1/imap/*) on workerd + D1: the same routes the relay's IMAP server calls,
 * including a mailbox of 150 messages, which D1's 100-bound-parameter limit would break if a query bound
 * one parameter per UID.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeTransaction } from "../../src/contract.ts";
import { testTransaction } from "../support/transaction.ts";

const relay = { authorization: `Bearer ${env.RELAY_SECRET}` };
const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`https://edge.test${path}`, init));
const imap = async <T>(route: string, body: unknown): Promise<{ status: number; body: T }> => {
  const res = await call(`/relay/v1/imap/${route}`, {
    method: "POST",
    headers: relay,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
};
const USER = "ivy@imap-d1.test";

describe("IMAP store API on workerd + D1", () => {
  beforeAll(async () => {
    await call("/api/domains", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "imap-d1.test" }),
    });
    await call("/api/users", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ address: USER, password: "ivy-password" }),
    });
    for (let i = 1; i <= 150; i++) {
      const res = await call("/relay/v1/messages", {
        method: "POST",
        headers: {
          ...relay,
          "mxedge-transaction": encodeTransaction(
            testTransaction({ mailFrom: "a@sender.test", rcptTo: [USER] }),
          ),
          "idempotency-key": `imap-d1-${i}-0000`,
        },
        body: `From: a@sender.test\r\nTo: ${USER}\r\nSubject: message ${i}\r\nMessage-ID: <d1-${i}@sender.test>\r\n\r\nbody ${i}\r\n`,
      });
      expect(res.status).toBe(200);
    }
  });

  it("lists mailboxes, selects INBOX with every UID, and fetches metadata and raw bytes for 150 messages", async () => {
    const boxes = await imap<Array<{ name: string; specialUse: string | null }>>("mailboxes", { user: USER });
    expect(boxes.status).toBe(200);
    expect(boxes.body.map((b) => b.name)).toEqual(expect.arrayContaining(["INBOX", "Sent", "Trash"]));
    // SELECT's state is compact: [uid, modseq, index into flagSets] per message (src/contract-imap.ts).
    const sel = await imap<{ id: number; uidNext: number; messages: Array<[number, number, number]> }>(
      "select",
      {
        user: USER,
        name: "INBOX",
      },
    );
    expect(sel.body.messages.map((m) => m[0])).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(sel.body.uidNext).toBe(151);
    const meta = await imap<{ rows: Array<{ uid: number; size: number; raw: string | null }> }>("fetch", {
      user: USER,
      mailboxId: sel.body.id,
      uids: "1:150",
      raw: false,
    });
    expect(meta.status).toBe(200);
    expect(meta.body.rows).toHaveLength(150);
    const one = await imap<{ rows: Array<{ uid: number; raw: string }> }>("fetch", {
      user: USER,
      mailboxId: sel.body.id,
      uids: "42",
      raw: true,
    });
    expect(atob(one.body.rows[0]?.raw ?? "")).toMatch(
      /\r\nSubject: message 42\r\nMessage-ID: <d1-42@sender\.test>\r\n\r\nbody 42\r\n$/,
    );
  });

  it("stores flags on all 150 with modseqs, then expunges the \\Deleted ones", async () => {
    const sel = await imap<{ id: number; highestModseq: number }>("select", { user: USER, name: "INBOX" });
    const seen = await imap<{ highestModseq: number; messages: Array<{ flags: string[] }> }>("store", {
      user: USER,
      mailboxId: sel.body.id,
      uids: "1:150",
      op: "add",
      flags: ["\\Seen"],
      unchangedSince: null,
    });
    expect(seen.status).toBe(200);
    expect(seen.body.messages.every((m) => m.flags.includes("\\Seen"))).toBe(true);
    expect(seen.body.highestModseq).toBeGreaterThan(sel.body.highestModseq);
    await imap("store", {
      user: USER,
      mailboxId: sel.body.id,
      uids: "1:10",
      op: "add",
      flags: ["\\Deleted"],
      unchangedSince: null,
    });
    const gone = await imap<{ expunged: string }>("expunge", {
      user: USER,
      mailboxId: sel.body.id,
      uids: null,
    });
    expect(gone.body.expunged).toBe("1:10");
    const after = await imap<{ messages: Array<[number, number, number]> }>("select", {
      user: USER,
      name: "INBOX",
    });
    expect(after.body.messages).toHaveLength(140);
  });
});
