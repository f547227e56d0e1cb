/**
 * The webhook outbox on Node: messages ingested through the relay route, delivered by deliverDue() to a
 * real node:http receiver that verifies every request with the independent standardwebhooks package.
 * The clock is controlled, so the retry schedule is checked without waiting.
 */
import { createServer, type Server } from "node:http";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../edge/app.ts";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { encodeTransaction } from "../../src/contract.ts";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";
import { parseCidrList } from "../../src/net/cidr.ts";
import { createStore, type Store } from "../../src/store/index.ts";
import { deliverDue, type OutboxDeps } from "../../src/webhooks/outbox.ts";
import { WebhookPayloadSchema } from "../../src/webhooks/payload.ts";
import { newWebhookSecret } from "../../src/webhooks/sign.ts";
import { testTransaction } from "../support/transaction.ts";

const secret = newWebhookSecret();
let server: Server;
let port = 0;
let nextStatus = 200;
const received: Array<{ verified: boolean; body: string; id: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let verified = false;
      try {
        new Webhook(secret).verify(body, req.headers as Record<string, string>);
        verified = true;
      } catch (err) {
        // verify() also parses the payload as JSON; a raw (message/rfc822) body fails only that part.
        verified = !(err instanceof WebhookVerificationError);
      }
      received.push({ verified, body, id: String(req.headers["webhook-id"]) });
      res.writeHead(nextStatus).end(nextStatus === 200 ? "thanks" : "nope");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

describe("webhook outbox", () => {
  let store: Store;
  let app: ReturnType<typeof createEdgeApp>;
  // Real time at the start: receivers check that the signature timestamp is recent.
  let clock = Date.now();
  let deps: OutboxDeps;
  let seq = 0;

  const ingest = async (rcpt: string, subject: string) => {
    const res = await app.fetch(
      new Request("https://edge.test/relay/v1/messages", {
        method: "POST",
        headers: {
          authorization: "Bearer relay-secret",
          "mxedge-transaction": encodeTransaction(
            testTransaction({ mailFrom: "a@sender.test", rcptTo: [rcpt] }),
          ),
          "idempotency-key": `outbox-test-${++seq}`,
        },
        body: `From: A <a@sender.test>\r\nTo: ${rcpt}\r\nSubject: ${subject}\r\nMessage-ID: <${seq}.${subject.replace(/\W/g, "")}@sender.test>\r\n\r\nhello\r\n`,
      }),
    );
    return ((await res.json()) as { id: string }).id;
  };

  beforeEach(async () => {
    const handle = openSqlite(":memory:");
    await migrateSqlite(handle);
    store = createStore(handle.driver);
    app = createEdgeApp({ store, relaySecret: "relay-secret", adminToken: "admin", now: () => clock });
    await store.directory.addDomain("example.test");
    await store.directory.addUser("support@example.test", "support-pass");
    await store.directory.addUser("other@example.test", "other-pass");
    await store.webhooks.upsertEndpoint({
      name: "tickets",
      url: `http://127.0.0.1:${port}/hook`,
      secret,
      format: "json",
      filters: { addresses: ["support@example.test"] },
    });
    received.length = 0;
    clock = Date.now();
    nextStatus = 200;
    deps = {
      store,
      now: () => clock,
      fetch: (i, init) => fetch(i, init),
      publicUrl: "https://edge.test",
      urlSigningKey: "relay-secret:files",
      allow: parseCidrList(["127.0.0.0/8"]),
    };
  });

  it("delivers signed JSON exactly once, only for matching recipients, with a working signed raw link", async () => {
    const id = await ingest("support@example.test", "help please");
    await ingest("other@example.test", "not for the webhook");
    expect(await deliverDue(deps)).toMatchObject({ attempted: 1, delivered: 1 });
    expect(await deliverDue(deps)).toMatchObject({ attempted: 0 });
    expect(received).toHaveLength(1);
    expect(received[0]?.verified).toBe(true);
    const payload = WebhookPayloadSchema.parse(JSON.parse(received[0]?.body ?? "{}"));
    expect(payload).toMatchObject({
      id,
      subject: "help please",
      envelope: { rcptTo: ["support@example.test"] },
    });
    const raw = await app.fetch(new Request(payload.rawUrl ?? ""));
    expect(raw.status).toBe(200);
    expect(await raw.text()).toContain("Subject: help please");
    const tampered = await app.fetch(
      new Request((payload.rawUrl ?? "").replace(id, `${id.slice(0, -1)}${id.endsWith("X") ? "Y" : "X"}`)),
    );
    expect(tampered.status).toBe(403);
    const [delivery] = await store.webhooks.listDeliveries();
    expect(delivery).toMatchObject({ state: "delivered", attempts: 1, lastStatus: 200 });
  });

  it("large attachments arrive as signed links that download until they expire; altered links get 403", async () => {
    await store.webhooks.upsertEndpoint({
      name: "tickets",
      url: `http://127.0.0.1:${port}/hook`,
      secret,
      format: "json",
      filters: { addresses: ["support@example.test"], inlineLimitBytes: 100 },
    });
    const big = new Uint8Array(3000).map((_, i) => (i * 7) % 256);
    const b64 = btoa(String.fromCharCode(...big)).replace(/.{76}/g, "$&\r\n");
    const res = await app.fetch(
      new Request("https://edge.test/relay/v1/messages", {
        method: "POST",
        headers: {
          authorization: "Bearer relay-secret",
          "mxedge-transaction": encodeTransaction(
            testTransaction({ mailFrom: "a@sender.test", rcptTo: ["support@example.test"] }),
          ),
          "idempotency-key": "outbox-attachment-1",
        },
        body: [
          "From: a@sender.test",
          "To: support@example.test",
          "Subject: with attachment",
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="b"',
          "",
          "--b",
          "Content-Type: text/plain",
          "",
          "see attached",
          "--b",
          "Content-Type: application/octet-stream; name=big.bin",
          "Content-Disposition: attachment; filename=big.bin",
          "Content-Transfer-Encoding: base64",
          "",
          b64,
          "--b--",
          "",
        ].join("\r\n"),
      }),
    );
    expect(res.status).toBe(200);
    await deliverDue(deps);
    const payload = WebhookPayloadSchema.parse(JSON.parse(received.at(-1)?.body ?? "{}"));
    const attachment = payload.attachments[0];
    expect(attachment).toMatchObject({ filename: "big.bin", size: 3000, content: null });
    const url = attachment?.url ?? "";
    const download = await app.fetch(new Request(url));
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(big);
    expect((await app.fetch(new Request(url.replace("/attachments/0", "/attachments/1")))).status).toBe(403);
    clock += 8 * 24 * 3600_000; // links live 7 days
    expect((await app.fetch(new Request(url))).status).toBe(403);
  });

  it("format raw posts the stored MIME message with the envelope in headers", async () => {
    const seenHeaders: Record<string, string>[] = [];
    await store.webhooks.upsertEndpoint({
      name: "tickets",
      url: `http://127.0.0.1:${port}/hook`,
      secret,
      format: "raw",
      filters: { addresses: ["support@example.test"] },
    });
    const id = await ingest("support@example.test", "raw please");
    const spy: typeof fetch = async (input, init) => {
      seenHeaders.push(Object.fromEntries(new Headers(init?.headers)));
      return fetch(input, init);
    };
    expect(await deliverDue({ ...deps, fetch: spy })).toMatchObject({ delivered: 1 });
    expect(seenHeaders[0]).toMatchObject({
      "content-type": "message/rfc822",
      "x-mxedge-mail-from": "a@sender.test",
      "x-mxedge-rcpt-to": "support@example.test",
      "x-mxedge-message-id": id,
    });
    expect(received.at(-1)?.verified).toBe(true);
    expect(received.at(-1)?.body).toMatch(/^Received: [\s\S]*\r\nSubject: raw please\r\n/);
  });

  it("a synchronous route with store = false answers 250 after the app's 2xx and stores nothing", async () => {
    await store.webhooks.upsertEndpoint({
      name: "gateway",
      url: `http://127.0.0.1:${port}/hook`,
      secret,
      format: "json",
      filters: { addresses: ["other@example.test"], mode: "sync", store: false, timeoutMs: 2000 },
    });
    const gateway = createEdgeApp({
      store,
      relaySecret: "relay-secret",
      adminToken: "admin",
      now: () => clock,
      webhookAllow: parseCidrList(["127.0.0.0/8"]),
    });
    const res = await gateway.fetch(
      new Request("https://edge.test/relay/v1/messages", {
        method: "POST",
        headers: {
          authorization: "Bearer relay-secret",
          "mxedge-transaction": encodeTransaction(
            testTransaction({ mailFrom: "a@sender.test", rcptTo: ["other@example.test"] }),
          ),
          "idempotency-key": "gateway-only-1",
        },
        body: "From: a@sender.test\r\nTo: other@example.test\r\nSubject: pass through\r\n\r\nhi\r\n",
      }),
    );
    const body = (await res.json()) as { id: string; reply: { code: number } };
    expect(body.reply.code).toBe(250);
    expect(received.at(-1)).toMatchObject({ verified: true });
    expect(JSON.parse(received.at(-1)?.body ?? "{}")).toMatchObject({
      subject: "pass through",
      rawUrl: null,
    });
    expect(await store.messages.get(body.id)).toBeNull();
    expect(await store.webhooks.listDeliveries()).toEqual([]);
  });

  it("500 → retried later with backoff; 2xx → done; every attempt is logged", async () => {
    await ingest("support@example.test", "retry me");
    nextStatus = 500;
    expect(await deliverDue(deps)).toMatchObject({ attempted: 1, retrying: 1 });
    const [d1] = await store.webhooks.listDeliveries();
    expect(d1).toMatchObject({ state: "pending", attempts: 1, lastStatus: 500 });
    const wait = (d1?.nextAttemptAt ?? 0) - clock;
    expect(wait).toBeGreaterThanOrEqual(3 * 60_000);
    expect(wait).toBeLessThanOrEqual(6 * 60_000);
    expect(await deliverDue(deps)).toMatchObject({ attempted: 0 }); // not due yet
    clock += wait;
    nextStatus = 200;
    expect(await deliverDue(deps)).toMatchObject({ attempted: 1, delivered: 1 });
    const attempts = await store.webhooks.attempts(d1?.id ?? "");
    expect(attempts.map((a) => [a.status, a.responseSnippet])).toEqual([
      [500, "nope"],
      [200, "thanks"],
    ]);
    expect(new Set(received.map((r) => r.id)).size).toBe(1); // the same webhook-id on every attempt
  });

  it("410 → the endpoint is disabled and the delivery ends; redelivery from the API queues it again", async () => {
    await ingest("support@example.test", "gone");
    nextStatus = 410;
    expect(await deliverDue(deps)).toMatchObject({ failed: 1 });
    expect((await store.webhooks.listEndpoints())[0]?.enabled).toBe(false);
    const [d] = await store.webhooks.listDeliveries();
    expect(d).toMatchObject({ state: "failed", lastStatus: 410 });
    const res = await app.fetch(
      new Request(`https://edge.test/api/deliveries/${d?.id}/redeliver`, {
        method: "POST",
        headers: { authorization: "Bearer admin" },
      }),
    );
    expect(res.status).toBe(200);
    nextStatus = 200;
    expect(await deliverDue(deps)).toMatchObject({ delivered: 1 });
  });

  it("refuses private targets at delivery time unless allowlisted, also when a host name resolves to one", async () => {
    await ingest("support@example.test", "ssrf");
    expect(await deliverDue({ ...deps, allow: [] })).toMatchObject({ attempted: 1, retrying: 1 });
    const [d] = await store.webhooks.listDeliveries();
    expect(d?.lastError).toMatch(/^blocked target: 127\.0\.0\.1 is a loopback/);
    expect(received).toHaveLength(0);
    await store.webhooks.upsertEndpoint({
      name: "tickets",
      url: `http://hooks.example.test:${port}/hook`,
      secret,
      format: "json",
      filters: { addresses: ["support@example.test"] },
    });
    clock += 3600_000;
    const resolver = zoneResolver(parseZone("hooks.example.test. A 127.0.0.1"));
    await deliverDue({ ...deps, allow: [], resolver });
    const [again] = await store.webhooks.listDeliveries();
    expect(again?.lastError).toMatch(/^blocked target: hooks\.example\.test resolves to 127\.0\.0\.1/);
    expect(received).toHaveLength(0);
  });

  it("the admin API adds endpoints (secrets never shown) and refuses private targets", async () => {
    const admin = { authorization: "Bearer admin" };
    const bad = await app.fetch(
      new Request("https://edge.test/api/webhooks", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: "x", url: "http://10.0.0.5/hook", secret }),
      }),
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/private/);
    const ok = await app.fetch(
      new Request("https://edge.test/api/webhooks", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: "crm", url: "https://crm.example.test/in", secret }),
      }),
    );
    expect(ok.status).toBe(201);
    const list = await (
      await app.fetch(new Request("https://edge.test/api/webhooks", { headers: admin }))
    ).text();
    expect(list).toContain("crm");
    expect(list).not.toContain(secret.slice(6));
  });
});
