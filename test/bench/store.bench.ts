/**
 * npm run bench:store — single-writer ingest throughput of the SQLite store (node:sqlite, WAL) with
 * synchronous=FULL (what mxedge uses: a COMMIT is on disk before 250) against NORMAL, for 10 KiB messages.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { createStore } from "../../src/store/index.ts";

const N = Number(process.env.N ?? 2000);
for (const synchronous of ["FULL", "NORMAL"] as const) {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-store-bench-"));
  const handle = openSqlite(join(dir, "bench.db"), { synchronous });
  await migrateSqlite(handle);
  const store = createStore(handle.driver);
  await store.directory.addDomain("b.test");
  const user = await store.directory.addUser("u@b.test", "bench-password");
  const inboxes = await store.directory.inboxes([user.id]);
  const raw = new Uint8Array(10 * 1024).fill(65);
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    await store.messages.ingest({
      id: `${synchronous}-${i}`,
      idempotencyKey: `bench-${synchronous}-${i}`,
      receivedAt: Date.now(),
      envelope: { mailFrom: "a@x.test", rcptTo: ["u@b.test"] },
      connection: {},
      raw,
      summary: {
        from: null,
        to: [],
        cc: [],
        subject: "s",
        date: null,
        messageId: null,
        inReplyTo: null,
        attachmentCount: 0,
      },
      auth: null,
      mailboxIds: inboxes,
    });
  }
  const ms = performance.now() - started;
  console.log(
    `synchronous=${synchronous}: ${N} x 10 KiB ingests in ${ms.toFixed(0)} ms = ${(N / (ms / 1000)).toFixed(0)} msg/s (${(ms / N).toFixed(3)} ms each)`,
  );
  handle.close();
  rmSync(dir, { recursive: true, force: true });
}
