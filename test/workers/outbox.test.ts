/**
 * The webhook outbox on workerd + D1: the same deliverDue() the embedded timer runs, driven by the
 * Worker's scheduled() handler. Outbound fetch is replaced in the isolate so nothing leaves the machine.
 */
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { encodeTransaction } from "../../src/contract.ts";
import { testTransaction } from "../support/transaction.ts";

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`https://edge.test${path}`, init));
const secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0";
const realFetch = globalThis.fetch;
/** Runs the Worker's scheduled() handler, as the cron trigger would. */
const cron = async () => {
  await (exports.default as unknown as { scheduled(o: { cron: string }): Promise<unknown> }).scheduled({
    cron: "*/5 * * * *",
  });
};

describe("webhook outbox on workerd + D1", () => {
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it("delivers a signed payload from scheduled(), retries a 500, and never re-sends a delivered one", async () => {
    await call("/api/domains", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "hooks.test" }),
    });
    await call("/api/users", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ address: "desk@hooks.test", password: "desk-password" }),
    });
    const added = await call("/api/webhooks", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({
        name: "desk",
        url: "https://app.example.com/inbound",
        secret,
        addresses: ["desk@hooks.test"],
      }),
    });
    expect(added.status).toBe(201);
    const stored = await call("/relay/v1/messages", {
      method: "POST",
      headers: {
        authorization: `Bearer ${env.RELAY_SECRET}`,
        "mxedge-transaction": encodeTransaction(
          testTransaction({ mailFrom: "a@sender.test", rcptTo: ["desk@hooks.test"] }),
        ),
        "idempotency-key": "outbox-workers-1",
      },
      body: "From: a@sender.test\r\nTo: desk@hooks.test\r\nSubject: on workerd\r\nMessage-ID: <w1@sender.test>\r\n\r\nhi\r\n",
    });
    const { id } = (await stored.json()) as { id: string };

    const seen: Array<{ url: string; verified: boolean; subject: string }> = [];
    let status = 500;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      const body = await req.text();
      let verified = false;
      try {
        new Webhook(secret).verify(body, Object.fromEntries(req.headers));
        verified = true;
      } catch {}
      seen.push({ url: req.url, verified, subject: (JSON.parse(body) as { subject: string }).subject });
      return new Response("ok", { status });
    }) as typeof fetch;

    await cron();
    let [d] = (
      (await (await call(`/api/deliveries?message=${id}`, { headers: admin })).json()) as {
        deliveries: Array<{ id: string; state: string; attempts: number }>;
      }
    ).deliveries;
    expect(d).toMatchObject({ state: "pending", attempts: 1 });

    // Make the retry due now, as the cron would find it later.
    await call(`/api/deliveries/${d?.id}/redeliver`, { method: "POST", headers: admin });
    status = 200;
    await cron();
    await cron();
    [d] = (
      (await (await call(`/api/deliveries?message=${id}`, { headers: admin })).json()) as {
        deliveries: Array<{ id: string; state: string; attempts: number }>;
      }
    ).deliveries;
    expect(d).toMatchObject({ state: "delivered", attempts: 2 });
    expect(seen).toEqual([
      { url: "https://app.example.com/inbound", verified: true, subject: "on workerd" },
      { url: "https://app.example.com/inbound", verified: true, subject: "on workerd" },
    ]);
  });
});
