/**
 * The relay asks the edge over HTTP (relay/edge-client.ts, a deployed edge) or in-process
 * (relay/edge-local.ts, embedded). Both must give the SMTP side the same answers: the same
 * acceptances and refusals, the same 451 for a failure or a deadline, and a message stored once
 * per key. Every case runs over both.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { createEdgeApp, edgeContext } from "../../edge/app.ts";
import { type RelayApi, relayApi } from "../../edge/relay-api.ts";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { EdgeClient, type RelayEdge } from "../../relay/edge-client.ts";
import { LocalRelayEdge } from "../../relay/edge-local.ts";
import { createStore, type Store } from "../../src/store/index.ts";
import { testTransaction } from "../support/transaction.ts";

const SECRET = "relay-secret-for-transport-tests";
const MAX = 50_000;

interface Setup {
  edge: RelayEdge;
  store: Store;
  /** How often the in-process transport said it stored a message (it wakes idling IMAP sessions). */
  stored: () => number;
  errors: unknown[];
}

type Breakage = "none" | "throws" | "hangs";

async function setup(kind: "http" | "local", breakage: Breakage = "none"): Promise<Setup> {
  const handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  const store = createStore(handle.driver);
  await store.directory.addDomain("example.test");
  await store.directory.addUser("bob@example.test", "long enough password");
  const options = {
    store,
    relaySecret: SECRET,
    adminToken: "admin-token",
    maxMessageBytes: MAX,
    onError: () => {},
  };
  const ctx = edgeContext(options);
  if (breakage !== "none") {
    // The store fails under every operation: a broken database, or one that never answers.
    const broken = () =>
      breakage === "throws" ? Promise.reject(new Error("disk I/O error")) : new Promise(() => {});
    ctx.store = new Proxy(store, {
      get: (target, prop) => new Proxy(target[prop as keyof Store] as object, { get: () => broken }),
    }) as Store;
  }
  let storedCount = 0;
  const errors: unknown[] = [];
  const timeoutMs = 300;
  if (kind === "http") {
    const app = createEdgeApp(options, ctx);
    const edge = new EdgeClient({
      fetch: async (r) => app.fetch(r),
      baseUrl: "http://edge.internal",
      secret: SECRET,
      timeoutMs,
    });
    return { edge, store, stored: () => 0, errors };
  }
  const api: RelayApi = relayApi(ctx);
  const edge = new LocalRelayEdge({
    api,
    timeoutMs,
    onStored: () => storedCount++,
    onError: (err) => errors.push(err),
  });
  return { edge, store, stored: () => storedCount, errors };
}

const body = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(text));
      c.close();
    },
  });

const session = testTransaction({ mailFrom: "a@sender.test", rcptTo: ["bob@example.test"] }).session;
const tx = testTransaction({ mailFrom: "a@sender.test", rcptTo: ["bob@example.test"] });
const message = "Subject: hi\r\nMessage-ID: <m1@sender.test>\r\n\r\nhello\r\n";

describe.each(["http", "local"] as const)("relay edge over %s", (kind) => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup(kind);
  });

  it("decides recipients at RCPT time", async () => {
    const ask = async (rcptTo: string, user: string | null = null) => {
      const r = await s.edge.recipient({ mailFrom: "a@sender.test", rcptTo, session: { ...session, user } });
      if (!r.ok) throw new Error(r.reason);
      return [r.value.accept, r.value.reply.code, r.value.reply.enhanced];
    };
    expect(await ask("bob@example.test")).toEqual([true, 250, "2.1.5"]);
    expect(await ask("nobody@example.test")).toEqual([false, 550, "5.1.1"]);
    expect(await ask("user@other.test")).toEqual([false, 554, "5.7.1"]);
    expect(await ask("user@other.test", "bob@example.test")).toEqual([false, 550, "5.7.1"]);
  });

  it("checks AUTH credentials", async () => {
    const auth = (password: string) =>
      s.edge.auth({
        username: "bob@example.test",
        password,
        mechanism: "PLAIN",
        connection: session.connection,
      });
    expect(await auth("long enough password")).toEqual({
      ok: true,
      value: { ok: true, user: "bob@example.test" },
    });
    expect(await auth("wrong password")).toEqual({ ok: true, value: { ok: false, user: null } });
  });

  it("stores a message once per key, and answers a retry as a duplicate", async () => {
    const first = await s.edge.ingest(tx, "transport-key-1", body(message));
    if (!first.ok) throw new Error(first.reason);
    expect(first.value).toMatchObject({ stored: true, duplicate: false, reply: { code: 250 } });
    const again = await s.edge.ingest(tx, "transport-key-2", body(message));
    expect(again.ok && again.value).toMatchObject({ id: first.value.id, duplicate: true });
    expect(await s.store.messages.raw(first.value.id)).not.toBeNull();
    if (kind === "local") expect(s.stored()).toBe(2);
  });

  it("refuses what the edge refuses, with the edge's reply", async () => {
    const bare = await s.edge.ingest(tx, "transport-key-3", body("Subject: x\r\n\r\nbare\nLF\r\n"));
    expect(bare.ok ? null : bare.reply.code).toBe(554);
    const big = await s.edge.ingest(
      tx,
      "transport-key-4",
      body(`Subject: big\r\n\r\n${"x".repeat(MAX)}\r\n`),
    );
    expect(big.ok ? null : [big.reply.code, big.reply.enhanced]).toEqual([552, "5.3.4"]);
    const badKey = await s.edge.ingest(tx, "bad key!", body(message));
    expect(badKey.ok ? null : badKey.reply.code).toBe(451);
  });

  it("answers 451 when the store fails, and when it does not answer in time", async () => {
    for (const breakage of ["throws", "hangs"] as const) {
      const broken = await setup(kind, breakage);
      const started = performance.now();
      const r = await broken.edge.recipient({
        mailFrom: "a@sender.test",
        rcptTo: "bob@example.test",
        session,
      });
      expect(r.ok ? null : r.reply).toMatchObject({ code: 451, enhanced: "4.3.0" });
      const i = await broken.edge.ingest(tx, "transport-key-5", body(message));
      expect(i.ok ? null : i.reply.code).toBe(451);
      if (breakage === "hangs") expect(performance.now() - started).toBeGreaterThanOrEqual(550);
      if (breakage === "throws" && kind === "local") expect(broken.errors.length).toBeGreaterThan(0);
    }
  });
});
