/**
 * The embedded edge on a worker thread (edge/edge-thread-host.ts): messages are ingested through it,
 * a streamed body arrives whole, and a body the edge refuses early stops being sent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeThread, startEdgeThread } from "../../edge/edge-thread-host.ts";
import { openEmbeddedStore } from "../../edge/embedded.ts";
import { parseConfig } from "../../src/config.ts";
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
  return thread.ingest(tx, key, body);
}

/** The answer says stored, and the stored message ends with `text`, byte for byte (after the edge's headers). */
async function expectStored(answer: Awaited<ReturnType<typeof ingest>>, text: string) {
  if (!answer.ok) throw new Error(answer.refusal.error);
  expect(answer.value.stored).toBe(true);
  const opened = await openEmbeddedStore(dir);
  try {
    const raw = new TextDecoder().decode(
      (await opened.store.messages.raw(answer.value.id)) ?? new Uint8Array(),
    );
    expect(raw.endsWith(text)).toBe(true);
  } finally {
    opened.close();
  }
}

describe("edge thread", () => {
  it("stores a message streamed in many chunks, byte for byte", async () => {
    const text = `Subject: via thread\r\nMessage-ID: <t1@sender.test>\r\n\r\n${"line\r\n".repeat(2000)}`;
    const bytes = new TextEncoder().encode(text);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 700) }, (_, k) =>
      bytes.subarray(k * 700, (k + 1) * 700),
    );
    await expectStored(await ingest(chunks, "thread-key-0001"), text);
  });

  it("stores a body read whole (its request, chunk and end cross as one message)", async () => {
    const text = "Subject: one chunk\r\nMessage-ID: <t3@sender.test>\r\n\r\nhello\r\n";
    await expectStored(await ingest([new TextEncoder().encode(text)], "thread-key-0003"), text);
  });

  it("fails a body that fails, before or after its first chunk (never stored)", async () => {
    const chunk = new TextEncoder().encode("Subject: cut\r\nMessage-ID: <cut@sender.test>\r\n\r\nbody\r\n");
    for (const failAt of [0, 1, 2]) {
      await expect(ingest([chunk, chunk], `thread-key-fail-${failAt}`, undefined, failAt)).rejects.toThrow(
        /client went away/,
      );
    }
    // The thread dropped each of them: the whole message, sent now, is stored once and new.
    const answer = await ingest([chunk, chunk], "thread-key-fail-whole");
    expect(answer.ok && answer.value.duplicate).toBe(false);
  });

  it("gives up on a message when its signal aborts, and the thread drops it", async () => {
    const controller = new AbortController();
    const tx = testTransaction({ mailFrom: "a@sender.test", rcptTo: ["bob@example.test"] });
    const first = new TextEncoder().encode("Subject: slow\r\nMessage-ID: <slow@sender.test>\r\n\r\n");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent++ === 0) return c.enqueue(first.slice());
        await new Promise((r) => setTimeout(r, 50));
        c.enqueue(new TextEncoder().encode("more\r\n"));
      },
    });
    const pending = thread.ingest(tx, "thread-key-abort-1", body, controller.signal);
    await new Promise((r) => setTimeout(r, 120));
    controller.abort(new Error("deadline"));
    await expect(pending).rejects.toThrow(/aborted/);
  });

  it("answers 413 for an oversized body and stops pulling it", async () => {
    let pulls = 0;
    const chunk = new Uint8Array(10_000).fill(0x61);
    const chunks = Array.from({ length: 1000 }, () => chunk); // 10 MB offered, limit 100 kB
    const answer = await ingest(chunks, "thread-key-0002", () => pulls++);
    expect(answer.ok ? null : [answer.status, answer.refusal.reply.code]).toEqual([413, 552]);
    await new Promise((r) => setTimeout(r, 200));
    // At most the 1 MiB flow-control window (~105 chunks) plus what the edge took (~11) was pulled.
    expect(pulls).toBeLessThan(150);
  });
});
