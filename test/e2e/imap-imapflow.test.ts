/**
 * IMAP against a real `mxedge serve`, driven by imapflow (npm): structure and sections of a nested
 * multipart message with non-ASCII text, CONDSTORE, and IDLE learning of SMTP-delivered mail.
 */
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { swaks } from "./swaks.ts";
import { requireTools } from "./tools.ts";

const USER = "flow@example.test";
const PASSWORD = "s3cret-passw0rd";

const NESTED = Buffer.from(
  [
    "From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.test>",
    "To: flow@example.test",
    "Subject: =?utf-8?b?R3LDvMOfZQ==?=",
    "Message-ID: <nested@e2e.test>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "--outer",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    "Grüße aus Köln",
    "--outer",
    "Content-Type: message/rfc822",
    "",
    "From: inner@example.test",
    "Subject: inner",
    'Content-Type: multipart/alternative; boundary="inner"',
    "",
    "--inner",
    "Content-Type: text/plain",
    "",
    "inner text",
    "--inner",
    "Content-Type: text/html",
    "",
    "<p>inner</p>",
    "--inner--",
    "",
    "--outer--",
    "",
  ].join("\r\n"),
);

function client(port: number, extra: { qresync?: boolean } = {}): ImapFlow {
  return new ImapFlow({
    ...extra,
    host: "127.0.0.1",
    port,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user: USER, pass: PASSWORD },
    logger: false,
  });
}

const enabled = requireTools("swaks", "python3");

describe.runIf(enabled)("IMAP with imapflow", () => {
  let mx: RunningMxedge;

  beforeAll(async () => {
    // Polling is all but off: idling clients must learn of changes through the in-process signal.
    mx = await startMxedge({ env: { MXEDGE_IMAP_IDLE_POLL_MS: "60000" } });
    expect((await mx.cli(["domain", "add", "example.test"])).code).toBe(0);
    expect((await mx.cli(["user", "add", USER, "--password-stdin"], `${PASSWORD}\n`)).code).toBe(0);
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("fetches BODYSTRUCTURE, ENVELOPE and sections of a nested, non-ASCII message", async () => {
    const c = client(mx.ports.imaps);
    await c.connect();
    try {
      // imapflow turns COMPRESS=DEFLATE on after login: everything below runs compressed.
      expect((c as unknown as { _deflate?: unknown })._deflate).toBeTruthy();
      const appended = await c.append("INBOX", NESTED, ["\\Seen"]);
      expect(appended).toMatchObject({ destination: "INBOX", uid: 1 });
      const lock = await c.getMailboxLock("INBOX");
      try {
        const msg = await c.fetchOne("1", {
          uid: true,
          envelope: true,
          bodyStructure: true,
          source: true,
          bodyParts: ["1", "2", "2.1", "2.2", "2.HEADER"],
        });
        if (!msg) throw new Error("no message");
        expect(msg.source?.equals(NESTED)).toBe(true);
        expect(msg.envelope?.subject).toBe("Grüße");
        expect(msg.envelope?.from?.[0]).toMatchObject({ name: "Jürgen", address: "juergen@example.test" });
        const bs = msg.bodyStructure;
        expect(bs?.type).toBe("multipart/mixed");
        expect(bs?.childNodes?.[0]).toMatchObject({ part: "1", type: "text/plain", size: 17 });
        const rfc822 = bs?.childNodes?.[1];
        expect(rfc822).toMatchObject({ part: "2", type: "message/rfc822" });
        expect(rfc822?.envelope?.subject).toBe("inner");
        expect(rfc822?.childNodes?.[0]?.type).toBe("multipart/alternative");
        expect(rfc822?.childNodes?.[0]?.childNodes?.map((n) => n.type)).toEqual(["text/plain", "text/html"]);
        const parts = msg.bodyParts as Map<string, Buffer>;
        expect(parts.get("1")?.toString()).toBe("Grüße aus Köln");
        expect(parts.get("2.1")?.toString()).toBe("inner text");
        expect(parts.get("2.2")?.toString()).toBe("<p>inner</p>");
        expect(parts.get("2.header")?.toString() ?? parts.get("2.HEADER")?.toString()).toMatch(
          /^From: inner@example\.test\r\nSubject: inner\r\n/,
        );
      } finally {
        lock.release();
      }
    } finally {
      await c.logout();
    }
  });

  it("tracks MODSEQ with CONDSTORE and reports only changes since a modseq", async () => {
    const c = client(mx.ports.imaps);
    await c.connect();
    try {
      const box = await c.mailboxOpen("INBOX");
      const before = BigInt(box.highestModseq ?? 0n);
      expect(before).toBeGreaterThan(0n);
      await c.messageFlagsAdd("1", ["\\Flagged"]);
      const changed = [];
      for await (const m of c.fetch("1:*", { flags: true }, { changedSince: before })) changed.push(m);
      expect(changed).toHaveLength(1);
      expect(changed[0]?.flags?.has("\\Flagged")).toBe(true);
      expect(BigInt(changed[0]?.modseq ?? 0n)).toBeGreaterThan(before);
    } finally {
      await c.logout();
    }
  });

  it("resyncs with QRESYNC: expunges made while away arrive as VANISHED (EARLIER), flags as changes", async () => {
    const b = client(mx.ports.imaps);
    await b.connect();
    const a = client(mx.ports.imaps, { qresync: true });
    try {
      await b.mailboxCreate("Resync");
      await b.mailboxOpen("Resync");
      const one = await b.append("Resync", "Subject: r1\r\n\r\none\r\n");
      const two = await b.append("Resync", "Subject: r2\r\n\r\ntwo\r\n");
      if (!one || !two) throw new Error("APPEND failed");
      await a.connect();
      expect(a.enabled.has("QRESYNC")).toBe(true);
      const first = await a.mailboxOpen("Resync");
      const since = BigInt(first.highestModseq ?? 0n);
      await a.mailboxClose();
      // Changes while the client is away.
      await b.messageFlagsAdd(String(one.uid), ["\\Flagged"], { uid: true });
      await b.messageDelete(String(two.uid), { uid: true });
      const vanished: Array<{ uid?: number; vanished: boolean; earlier?: boolean }> = [];
      a.on("expunge", (e: { uid?: number; vanished: boolean; earlier?: boolean }) => vanished.push(e));
      const again = await a.mailboxOpen("Resync", { changedSince: since, uidValidity: first.uidValidity });
      expect(again.exists).toBe(1);
      expect(vanished).toEqual([expect.objectContaining({ uid: two.uid, vanished: true, earlier: true })]);
      const changed = [];
      for await (const m of a.fetch("1:*", { flags: true }, { uid: true, changedSince: since }))
        changed.push(m);
      expect(changed.map((m) => [m.uid, m.flags?.has("\\Flagged")])).toEqual([[one.uid, true]]);
    } finally {
      await a.logout();
      await b.logout();
    }
  });

  it("tells an idling client about mail delivered by SMTP", async () => {
    const c = client(mx.ports.imaps);
    await c.connect();
    try {
      await c.mailboxOpen("INBOX");
      const seen = new Promise<{ count: number; prevCount: number }>((resolve) => {
        c.on("exists", (data: { count: number; prevCount: number }) => resolve(data));
      });
      const idling = c.idle();
      await new Promise((r) => setTimeout(r, 100));
      const sent = await swaks({
        port: mx.ports.smtp,
        from: "alice@sender.test",
        to: USER,
        message: `From: alice@sender.test\r\nTo: ${USER}\r\nSubject: idle wakeup\r\n\r\nhello\r\n`,
      });
      expect(sent.code).toBe(250);
      const stored = Date.now();
      const ev = await seen;
      expect(ev).toMatchObject({ count: 2, prevCount: 1 });
      // Embedded: within 1 s of the 250 (the store write), through the in-process signal.
      expect(Date.now() - stored).toBeLessThan(1000);
      const msg = await c.fetchOne("2", { envelope: true });
      expect(msg ? msg.envelope?.subject : null).toBe("idle wakeup");
      await idling.catch(() => {});
    } finally {
      await c.logout();
    }
  });

  it("tells an idling client about expunges and flag changes made by another session", async () => {
    const idler = client(mx.ports.imaps);
    const other = client(mx.ports.imaps);
    await idler.connect();
    await other.connect();
    try {
      const opened = await idler.mailboxOpen("INBOX");
      expect(opened.exists).toBe(2);
      const events: string[] = [];
      const flagged = new Promise<void>((resolve) => {
        idler.on("flags", (d: { seq: number; flags: Set<string> }) => {
          events.push(`flags ${d.seq} ${[...d.flags].join(",")}`);
          resolve();
        });
      });
      const expunged = new Promise<void>((resolve) => {
        idler.on("expunge", (d: { seq: number }) => {
          events.push(`expunge ${d.seq}`);
          resolve();
        });
      });
      idler.on("exists", (d: { count: number }) => events.push(`exists ${d.count}`));
      const idling = idler.idle();
      await other.mailboxOpen("INBOX");
      await other.messageFlagsAdd("2", ["$Seen2"]);
      await flagged;
      expect(await other.messageDelete("1")).toBe(true);
      await expunged;
      // The \Deleted flag may or may not be seen before the expunge, depending on when the poll runs.
      expect(events.filter((e) => !e.startsWith("flags 1 "))).toEqual(["flags 2 $Seen2", "expunge 1"]);
      // Any command ends IDLE; the idler's view is one message, never an empty mailbox.
      await idler.noop();
      await idling.catch(() => {});
      expect(idler.mailbox ? idler.mailbox.exists : null).toBe(1);
    } finally {
      await other.logout();
      await idler.logout();
    }
  });
});
