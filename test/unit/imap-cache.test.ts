import { describe, expect, it } from "vitest";
import { BodyCache, ViewCache } from "../../relay/imap/cache.ts";

describe("relay IMAP caches (second-chance eviction)", () => {
  it("stays within its byte bound and drops the oldest unread entries first", () => {
    const c = new BodyCache(1000);
    for (let i = 0; i < 10; i++) c.set(`b${i}`, new Uint8Array(100));
    expect(c.size).toBe(1000);
    c.set("b10", new Uint8Array(100));
    expect(c.size).toBe(1000);
    expect(c.get("b0")).toBeUndefined();
    expect(c.get("b1")).toBeDefined();
    expect(c.get("b10")).toBeDefined();
  });

  it("keeps an entry that was read since it was stored", () => {
    const c = new BodyCache(1000);
    for (let i = 0; i < 10; i++) c.set(`b${i}`, new Uint8Array(100));
    expect(c.get("b0")).toBeDefined();
    c.set("x", new Uint8Array(100));
    expect(c.get("b0")).toBeDefined();
    expect(c.get("b1")).toBeUndefined();
    expect(c.size).toBe(1000);
  });

  it("refuses a body above a quarter of the bound, and survives every entry being hot", () => {
    const c = new BodyCache(1000);
    c.set("big", new Uint8Array(251));
    expect(c.get("big")).toBeUndefined();
    for (let i = 0; i < 10; i++) c.set(`b${i}`, new Uint8Array(100));
    for (let i = 0; i < 10; i++) c.get(`b${i}`);
    c.set("new", new Uint8Array(200));
    expect(c.size).toBeLessThanOrEqual(1000);
    expect(c.get("new")).toBeDefined();
  });

  it("bounds views by their string sizes", () => {
    const v = new ViewCache<{ env: string; body: string; bs: string }>(2000);
    for (let i = 0; i < 100; i++) v.set(`v${i}`, { env: "x".repeat(100), body: "", bs: "" });
    let held = 0;
    for (let i = 0; i < 100; i++) if (v.get(`v${i}`)) held++;
    expect(held).toBe(4);
    expect(v.get("v99")).toBeDefined();
  });

  it("does not keep a view larger than the whole bound", () => {
    const v = new ViewCache<{ env: string; body: string; bs: string }>(100);
    v.set("a", { env: "x".repeat(1000), body: "", bs: "" });
    expect(v.get("a")).toBeUndefined();
  });
});
