import { describe, expect, it } from "vitest";
import type { Transaction } from "../../src/contract.ts";
import { hasMessageId, idempotencyKeyFor } from "../../src/pipeline/idempotency.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const tx = (rcptTo: string[], mailFrom = "a@sender.test") => ({ mailFrom, rcptTo }) as unknown as Transaction;
const msg = "Message-ID: <1@sender.test>\r\nSubject: x\r\n\r\nbody\r\n";

describe("idempotency keys", () => {
  it("finds a Message-ID only in the header block", () => {
    expect(hasMessageId(enc(msg))).toBe(true);
    expect(hasMessageId(enc("Subject: x\r\nmessage-id:\r\n <folded@x>\r\n\r\n"))).toBe(true);
    expect(hasMessageId(enc("Subject: x\r\n\r\nMessage-ID: <in-body@x>\r\n"))).toBe(false);
    expect(hasMessageId(enc("Subject: x\r\nMessage-ID:   \r\n\r\n"))).toBe(false);
  });

  it("gives a retry of the same content and envelope the same key, whatever the relay's key", async () => {
    const a = await idempotencyKeyFor(tx(["b@x.test", "c@x.test"]), enc(msg), "relay-key-1");
    const b = await idempotencyKeyFor(tx(["c@x.test", "b@x.test"]), enc(msg), "relay-key-2");
    expect(a).toEqual(b);
    expect(a.key).toMatch(/^c1\.[0-9a-f]{64}$/);
  });

  it("keys differ for different content, sender or recipients", async () => {
    const base = (await idempotencyKeyFor(tx(["b@x.test"]), enc(msg), "k1")).key;
    expect((await idempotencyKeyFor(tx(["b@x.test"]), enc(`${msg}more\r\n`), "k1")).key).not.toBe(base);
    expect((await idempotencyKeyFor(tx(["b@x.test"], "z@s.test"), enc(msg), "k1")).key).not.toBe(base);
    expect((await idempotencyKeyFor(tx(["c@x.test"]), enc(msg), "k1")).key).not.toBe(base);
  });

  it("keeps the relay's per-transaction key without a Message-ID", async () => {
    const r = await idempotencyKeyFor(tx(["b@x.test"]), enc("Subject: alert\r\n\r\nsame\r\n"), "relay-key-9");
    expect(r).toEqual({ key: "relay-key-9", byContent: false });
  });
});
