import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { parseCidrList } from "../../src/net/cidr.ts";
import { classifyResponse, DEFAULT_RETRY, nextDelayMs } from "../../src/webhooks/schedule.ts";
import { newWebhookSecret, signWebhook, verifyWebhook } from "../../src/webhooks/sign.ts";
import { checkAddress, checkUrl } from "../../src/webhooks/ssrf.ts";

describe("Standard Webhooks signatures", () => {
  it("are accepted by the independent standardwebhooks package, and ours rejects tampering and old timestamps", async () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: "message.received", subject: "Grüße ✓" });
    const now = Date.now();
    const headers = await signWebhook(secret, "msg_123", Math.floor(now / 1000), body);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));

    const h = new Headers(headers as unknown as Record<string, string>);
    expect(await verifyWebhook(secret, h, body, { now })).toEqual({ ok: true });
    expect(await verifyWebhook(secret, h, body.replace("Grüße", "Grusse"), { now })).toEqual({
      ok: false,
      reason: "signature",
    });
    expect(await verifyWebhook(secret, h, body, { now: now + 10 * 60_000 })).toEqual({
      ok: false,
      reason: "timestamp",
    });
    expect(await verifyWebhook(newWebhookSecret(), h, body, { now })).toEqual({
      ok: false,
      reason: "signature",
    });
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });
});

describe("retry schedule", () => {
  it("backs off exponentially with jitter, about ten attempts over about a day", () => {
    const max = Array.from({ length: 9 }, (_, i) => nextDelayMs(i + 1, DEFAULT_RETRY, 0.999_999) ?? 0);
    const min = Array.from({ length: 9 }, (_, i) => nextDelayMs(i + 1, DEFAULT_RETRY, 0) ?? 0);
    max.forEach((m, i) => {
      expect(Math.abs((min[i] ?? 0) - m / 2)).toBeLessThan(100);
      if (i > 0) expect(m).toBeGreaterThanOrEqual(max[i - 1] ?? 0);
    });
    const total = max.reduce((a, b) => a + b, 0);
    expect(total / 3600_000).toBeGreaterThan(12);
    expect(total / 3600_000).toBeLessThan(30);
    expect(nextDelayMs(10)).toBeNull();
  });
  it("2xx delivers, 410 disables the endpoint, anything else retries", () => {
    expect([200, 204, 410, 400, 406, 429, 500, 503].map(classifyResponse)).toEqual([
      "delivered",
      "delivered",
      "disable",
      "retry",
      "retry",
      "retry",
      "retry",
      "retry",
    ]);
  });
});

describe("SSRF guard", () => {
  it("refuses loopback, private, link-local, metadata and reserved targets unless allowlisted", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
    ]) {
      expect(checkAddress(a).ok, a).toBe(false);
    }
    expect(checkAddress("203.0.113.5").ok).toBe(true);
    expect(checkAddress("127.0.0.1", parseCidrList(["127.0.0.0/8"])).ok).toBe(true);
    expect(checkUrl("http://localhost:8080/hook").ok).toBe(false);
    expect(checkUrl("https://[::1]/hook").ok).toBe(false);
    expect(checkUrl("https://user:pw@example.test/hook").ok).toBe(false);
    expect(checkUrl("ftp://example.test/").ok).toBe(false);
    expect(checkUrl("https://hooks.example.test/mail").ok).toBe(true);
  });
});
