/** The email() handler stage inside the pipeline, on an in-memory SQLite store (no processes). */
import { beforeEach, describe, expect, it } from "vitest";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { type InboundEmail, OutboundDeliveryUnavailableError } from "../../src/pipeline/handler-message.ts";
import { runPipeline } from "../../src/pipeline/pipeline.ts";
import { createStore, type Store } from "../../src/store/index.ts";
import { testTransaction } from "../support/transaction.ts";

let store: Store;
let key = 0;

beforeEach(async () => {
  const handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  store = createStore(handle.driver);
  await store.directory.addDomain("example.test");
  for (const u of ["alice", "bob"]) await store.directory.addUser(`${u}@example.test`, "password-123");
});

const enc = new TextEncoder();
const MESSAGE =
  "From: Carol <carol@sender.test>\r\nTo: alice@example.test\r\nSubject: stage test\r\n" +
  "Message-ID: <stage@sender.test>\r\n\r\nBody.\r\n";

function ingest(
  run: (m: InboundEmail) => unknown,
  opts: { rcptTo?: string[]; mailFrom?: string; timeoutMs?: number } = {},
) {
  return runPipeline(
    {
      transaction: testTransaction({
        mailFrom: opts.mailFrom ?? "carol@sender.test",
        rcptTo: opts.rcptTo ?? ["alice@example.test"],
      }),
      idempotencyKey: `relay-key-${++key}`,
      raw: enc.encode(MESSAGE),
      scope: { env: { NAME: "env" }, ctx: null },
    },
    {
      store,
      hostname: "mx.test",
      now: Date.now,
      handler: { run, timeoutMs: opts.timeoutMs ?? 2000, onError() {} },
    },
  );
}

async function copies(id: string): Promise<string[]> {
  const d = await store.messages.get(id);
  const users = await store.directory.listUsers();
  return (d?.copies ?? []).map((c) => `${users.find((u) => u.id === c.userId)?.login}:${c.mailbox}`).sort();
}

describe("email() handler stage", () => {
  it("gives each envelope recipient its own invocation; a recipient without actions gets the default copy", async () => {
    const seen: string[] = [];
    const out = await ingest(
      async (m) => {
        seen.push(m.to);
        if (m.to.startsWith("alice")) await m.deliver("Junk");
      },
      { rcptTo: ["alice@example.test", "bob@example.test"] },
    );
    expect(out.kind).toBe("stored");
    expect(seen.sort()).toEqual(["alice@example.test", "bob@example.test"]);
    if (out.kind === "stored")
      expect(await copies(out.id)).toEqual(["alice@example.test:Junk", "bob@example.test:INBOX"]);
  });

  it("shows the message as ForwardableEmailMessage does: envelope, Headers, raw stream, rawSize", async () => {
    let got: { from: string; subject: string | null; raw: string; size: number; dkim: unknown[] } | null =
      null;
    await ingest(async (m) => {
      got = {
        from: m.from,
        subject: m.headers.get("subject"),
        raw: await new Response(m.raw).text(),
        size: m.rawSize,
        dkim: m.auth.dkim,
      };
    });
    expect(got).toEqual({
      from: "carol@sender.test",
      subject: "stage test",
      raw: MESSAGE,
      size: MESSAGE.length,
      dkim: [],
    });
  });

  it("message.connection is the real client behind a PROXY-protocol load balancer, with its TLS", async () => {
    const tx = testTransaction({
      mailFrom: "carol@sender.test",
      rcptTo: ["alice@example.test"],
      clientIp: "203.0.113.9",
    });
    tx.session.connection.proxy = { address: "10.0.0.2", port: 51000 };
    tx.session.connection.proxyVersion = 2;
    tx.session.connection.tls = {
      terminatedBy: "proxy",
      version: "TLSv1.3",
      cipher: "TLS_AES_128_GCM_SHA256",
      sni: "mx.example.test",
      clientCertCn: null,
      clientCertVerified: false,
    };
    let seen: unknown = null;
    await runPipeline(
      { transaction: tx, idempotencyKey: `relay-key-${++key}`, raw: enc.encode(MESSAGE) },
      {
        store,
        hostname: "mx.test",
        now: Date.now,
        handler: {
          run: (m) => {
            seen = m.connection;
          },
          timeoutMs: 1000,
        },
      },
    );
    expect(seen).toEqual({
      clientIp: "203.0.113.9",
      clientPort: 40000,
      helo: "mail.sender.test",
      authUser: null,
      rdns: null,
      proxy: { address: "10.0.0.2", port: 51000, version: 2 },
      tls: {
        version: "TLSv1.3",
        cipher: "TLS_AES_128_GCM_SHA256",
        sni: "mx.example.test",
        terminatedBy: "proxy",
      },
    });
  });

  it("message.webhook(name) queues that endpoint (rulesOnly: nothing else would send to it)", async () => {
    await store.webhooks.upsertEndpoint({
      name: "tickets",
      url: "http://127.0.0.1:9/hook",
      secret: "whsec_dGVzdHRlc3R0ZXN0dGVzdA==",
      format: "json",
      filters: { rulesOnly: true },
    });
    const plain = await ingest(() => {});
    const hooked = await ingest((m) => m.webhook("tickets"), { rcptTo: ["bob@example.test"] });
    const queued = async (o: typeof plain) =>
      (await store.webhooks.listDeliveries({ ingestId: o.kind === "stored" ? o.id : "" })).map(
        (d) => d.endpoint,
      );
    expect(await queued(plain)).toEqual([]);
    expect(await queued(hooked)).toEqual(["tickets"]);
  });

  it("setReject keeps the reason to one line", async () => {
    const out = await ingest((m) => m.setReject("bad\r\nRCPT TO:<x>"));
    expect(out).toEqual({
      kind: "refused",
      reply: { code: 550, enhanced: "5.7.1", message: "bad RCPT TO:<x>" },
    });
  });

  it("a call after the time budget ran out has no effect, and nothing is stored", async () => {
    let late: unknown = null;
    const out = await ingest(
      async (m) => {
        await new Promise((r) => setTimeout(r, 150));
        try {
          m.tag("X-Late", "yes");
        } catch (err) {
          late = err;
        }
      },
      { timeoutMs: 50 },
    );
    expect(out.kind === "refused" && out.reply.code).toBe(451);
    await new Promise((r) => setTimeout(r, 200));
    expect(String(late)).toContain("ran out of its time budget");
    expect(await store.messages.list()).toEqual([]);
  });

  it("forward() to an unknown address in a local domain is the handler's error, not a silent drop", async () => {
    let err: unknown = null;
    const out = await ingest(async (m) => {
      await m.forward("nobody@example.test").catch((e: unknown) => {
        err = e;
        throw e;
      });
    });
    expect(String(err)).toContain("<nobody@example.test> is not a mailbox or alias here");
    expect(err).not.toBeInstanceOf(OutboundDeliveryUnavailableError);
    expect(out.kind === "refused" && out.reply.code).toBe(451);
  });

  it("an invalid tag is the handler's error: 451, nothing stored", async () => {
    const out = await ingest((m) => m.tag("X-Bad", "a\r\nBcc: x@y"));
    expect(out.kind === "refused" && out.reply).toMatchObject({ code: 451, enhanced: "4.3.0" });
    expect(await store.messages.list()).toEqual([]);
  });

  it("reply() to a local sender stores a threaded reply; to a remote one it throws the typed error", async () => {
    const out = await ingest(
      async (m) => {
        await m.reply({ from: "alice@example.test", subject: "Re: stage test", text: "Got it.\n" });
      },
      { mailFrom: "bob@example.test" },
    );
    expect(out.kind).toBe("stored");
    const all = await store.messages.list();
    expect(all).toHaveLength(2);
    const reply = all.find((m) => m.subject === "Re: stage test");
    expect(reply?.rcptTo).toEqual(["bob@example.test"]);
    const raw = new TextDecoder().decode((await store.messages.raw(reply?.id ?? "")) ?? new Uint8Array());
    expect(raw).toContain("In-Reply-To: <stage@sender.test>\r\n");
    expect(raw).toContain("\r\n\r\nGot it.\r\n");

    let caught: unknown = null;
    await ingest(async (m) => {
      caught = await m
        .reply({ from: "alice@example.test", subject: "Re", text: "x" })
        .catch((e: unknown) => e);
    });
    expect(caught).toBeInstanceOf(OutboundDeliveryUnavailableError);
    expect((caught as OutboundDeliveryUnavailableError).recipient).toBe("carol@sender.test");
    // instanceof also holds for the same error from another copy of the library.
    expect({ [Symbol.for("mxedge.OutboundDeliveryUnavailableError")]: true }).toBeInstanceOf(
      OutboundDeliveryUnavailableError,
    );
  });

  it("a retried transaction is answered from the store without running the handler again", async () => {
    let runs = 0;
    const first = await ingest(() => {
      runs++;
    });
    const second = await ingest(() => {
      runs++;
    });
    expect(second).toMatchObject({
      kind: "stored",
      duplicate: true,
      id: first.kind === "stored" ? first.id : "",
    });
    expect(runs).toBe(1);
  });
});
