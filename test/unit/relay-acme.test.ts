import { describe, expect, it } from "vitest";
import { Http01Responder } from "../../relay/acme/http01.ts";
import { needsRenewal, retryDelay } from "../../relay/acme/manager.ts";

describe("ACME renewal schedule", () => {
  it("renews within renewBeforeDays of expiry, not before", () => {
    const now = Date.UTC(2026, 0, 1);
    const day = 86_400_000;
    expect(needsRenewal(new Date(now + 31 * day), 30, now)).toBe(false);
    expect(needsRenewal(new Date(now + 30 * day), 30, now)).toBe(true);
    expect(needsRenewal(new Date(now - day), 30, now)).toBe(true);
  });

  it("backs off exponentially with ±50% jitter, capped", () => {
    expect(retryDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelay(1, 1000, 60_000, () => 0.999)).toBe(1499);
    expect(retryDelay(3, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(retryDelay(20, 1000, 60_000, () => 0.5)).toBe(60_000);
    const seen = new Set(Array.from({ length: 50 }, () => retryDelay(2, 1000, 60_000)));
    expect(seen.size).toBeGreaterThan(10); // jittered: retries of many relays do not line up
    for (const d of seen) expect(d >= 1000 && d <= 3000).toBe(true);
  });
});

describe("HTTP-01 responder", () => {
  it("answers only GET/HEAD of a known token under /.well-known/acme-challenge/", () => {
    const r = new Http01Responder();
    r.set("tok", "tok.thumb");
    expect(r.answer("GET", "/.well-known/acme-challenge/tok")).toBe("tok.thumb");
    expect(r.answer("HEAD", "/.well-known/acme-challenge/tok")).toBe("tok.thumb");
    expect(r.answer("POST", "/.well-known/acme-challenge/tok")).toBeNull();
    expect(r.answer("GET", "/.well-known/acme-challenge/other")).toBeNull();
    expect(r.answer("GET", "/tok")).toBeNull();
    r.delete("tok");
    expect(r.answer("GET", "/.well-known/acme-challenge/tok")).toBeNull();
  });
});
