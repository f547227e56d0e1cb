/**
 * The embedded edge on a worker thread (edge/edge-thread-host.ts): the relay API answers through it,
 * a streamed body arrives whole, and a body the edge refuses early stops being sent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeThread, startEdgeThread } from "../../edge/edge-thread-host.ts";
import { openEmbeddedStore } from "../../edge/embedded.ts";
import { parseConfig } from "../../src/config.ts";
import { encodeTransaction, IDEMPOTENCY_HEADER, TRANSACTION_HEADER } from "../../src/contract.ts";
import { testTransaction } from "../support/transaction.ts";

const SECRET = "thread-relay-secret-0123456789";
let dir: string;
let thread: EdgeThread;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mxedge-thread-"));
  const opened = await openEmbeddedStore(dir);
  await opened.store.directory.addDomain("example.test");
  await opened.store.directory.addUser("bob@example.test", "password-1");
  opened.close();
  const parsed = parseConfig({ auth: { enabled: false }, limits: { maxMessageBytes: 100_000 } });
  if (!parsed.ok) throw new Error(parsed.error);
  thread = await startEdgeThread({
    config: parsed.config,
    dataDir: dir,
    relaySecret: SECRET,
    adminToken: "thread-admin-token-0123456789",
  });
}, 30_000);

afterAll(async () => {
  await thread?.close();
  rmSync(dir, { recursive: true, force: true });
});

function ingest(chunks: Uint8Array[], key: string, onPull?: () => void, failAt = -1) {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      onPull?.();
      if (i === failAt) c.error(new Error("client went away"));
      else if (i < chunks.length) c.enqueue(chunks[i++]!);
      else c.close();
    },
  });
  const tx = testTransaction({ mailFrom: "a@sender.test", rcptTo: ["bob@example.test"] });
  return thread.fetch(
    new Request("http://edge.internal/relay/v1/messages", {
      method: "POST",
      headers: {
        authorization: `Bearer ${SECRET}`,
        [TRANSACTION_HEADER]: encodeTransaction(tx),
        [IDEMPOTENCY_HEADER]: key,
      },
      body,
      duplex: "half",
    } as RequestInit),
  );
}

describe("edge thread", () => {
  it("stores a message streamed in many chunks, byte for byte", async () => {
    const text = `Subject: via thread\r\nMessage-ID: <t1@sender.test>\r\n\r\n${"line\r\n".repeat(2000)}`;
    const bytes = new TextEncoder().encode(text);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 700) }, (_, k) =>
      bytes.subarray(k * 700, (k + 1) * 700),
    );
    const res = await ingest(chunks, "thread-key-0001");
    const body = (await res.json()) as { stored: boolean; id: string };
    expect(res.status).toBe(200);
    expect(body.stored).toBe(true);
    const opened = await openEmbeddedStore(dir);
    try {
      const raw = new TextDecoder().decode((await opened.store.messages.raw(body.id)) ?? new Uint8Array());
      expect(raw.endsWith(text)).toBe(true);
    } finally {
      opened.close();
    }
  });

  it("stores a body read whole (its request, chunk and end cross as one message)", async () => {
    const text = "Subject: one chunk\r\nMessage-ID: <t3@sender.test>\r\n\r\nhello\r\n";
    const res = await ingest([new TextEncoder().encode(text)], "thread-key-0003");
    const body = (await res.json()) as { stored: boolean; id: string };
    expect(res.status).toBe(200);
    const opened = await openEmbeddedStore(dir);
    try {
      const raw = new TextDecoder().decode((await opened.store.messages.raw(body.id)) ?? new Uint8Array());
      expect(raw.endsWith(text)).toBe(true);
    } finally {
      opened.close();
    }
  });

  it("answers a body that fails, before or after its first chunk, with a failure (never stored)", async () => {
    const chunk = new TextEncoder().encode("Subject: cut\r\n\r\nbody\r\n");
    for (const failAt of [0, 1, 2]) {
      const res = await ingest([chunk, chunk], `thread-key-fail-${failAt}`, undefined, failAt);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
  });

  it("answers 413 for an oversized body and stops pulling it", async () => {
    let pulls = 0;
    const chunk = new Uint8Array(10_000).fill(0x61);
    const chunks = Array.from({ length: 1000 }, () => chunk); // 10 MB offered, limit 100 kB
    const res = await ingest(chunks, "thread-key-0002", () => pulls++);
    expect(res.status).toBe(413);
    await new Promise((r) => setTimeout(r, 200));
    // At most the 1 MiB flow-control window (~105 chunks) plus what the edge read (~11) was pulled.
    expect(pulls).toBeLessThan(150);
  });
});
