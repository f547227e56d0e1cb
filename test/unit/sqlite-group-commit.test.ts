import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteHandle, type SqliteOptions } from "../../edge/sqlite.ts";

const ins = (k: string, v: number) => ({
  sql: "insert into t (k, v) values (?, ?)",
  params: [k, v],
  method: "run" as const,
});

/** Calls `fn` every time the connection runs COMMIT. */
function onCommit(database: SqliteHandle["database"], fn: () => void) {
  const exec = database.exec.bind(database);
  database.exec = (sql: string) => {
    if (sql === "COMMIT") fn();
    return exec(sql);
  };
}

describe("node:sqlite group commit", () => {
  let handle: SqliteHandle;
  let dir: string;
  afterEach(() => {
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (options: SqliteOptions = {}) => {
    dir = mkdtempSync(join(tmpdir(), "mxedge-gc-"));
    handle = openSqlite(join(dir, "t.db"), options);
    handle.database.exec("create table t (k text primary key, v integer)");
    return handle;
  };

  it("commits concurrent batches together, each still all-or-nothing on its own", async () => {
    // No early commit in this test, however slow the machine is between the three calls.
    const { driver, database } = open({ maxGroupWaitMs: 60_000 });
    let commits = 0;
    onCommit(database, () => commits++);
    const a = driver.batch([ins("a", 1), ins("a2", 1)]);
    // Fails on its second statement: its first must be rolled back too, and only this caller sees it.
    const b = driver.batch([ins("b", 2), ins("a", 2)]);
    const c = driver.batch([ins("c", 3)]);
    const settled = await Promise.allSettled([a, b, c]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(commits).toBe(1);
    const rows = database.prepare("select k, v from t order by k").all();
    expect(rows).toEqual([
      { k: "a", v: 1 },
      { k: "a2", v: 1 },
      { k: "c", v: 3 },
    ]);
  });

  it("settles a batch only after its COMMIT, and later batches get their own commit", async () => {
    const { driver, database } = open();
    const order: string[] = [];
    onCommit(database, () => order.push("commit"));
    await driver.batch([ins("x", 1)]).then(() => order.push("resolved x"));
    await driver.batch([ins("y", 1)]).then(() => order.push("resolved y"));
    expect(order).toEqual(["commit", "resolved x", "commit", "resolved y"]);
  });

  it("commits a group early once its first batch has waited maxGroupWaitMs, still after the COMMIT", async () => {
    const { driver, database } = open({ maxGroupWaitMs: 5 });
    let commits = 0;
    onCommit(database, () => commits++);
    let turnEnded = false;
    setImmediate(() => {
      turnEnded = true;
    });
    const a = driver.batch([ins("a", 1)]);
    const until = performance.now() + 10;
    while (performance.now() < until) {} // this turn's work goes on past the wait
    const b = driver.batch([ins("b", 1)]);
    await Promise.all([a, b]);
    expect(turnEnded).toBe(false); // answered before the turn ended…
    expect(commits).toBe(1); // …by one COMMIT for both
    // Within the wait, a batch joins the open group and waits for the turn as before.
    const c = driver.batch([ins("c", 1)]);
    const d = driver.batch([ins("d", 1)]);
    await Promise.all([c, d]);
    expect(commits).toBe(2);
    expect(database.prepare("select count(*) as n from t").get()).toEqual({ n: 4 });
  });

  it("close() commits what is still queued", async () => {
    const { driver } = open();
    const p = driver.batch([ins("z", 1)]);
    const path = join(dir, "t.db");
    handle.close();
    await expect(p).resolves.toHaveLength(1);
    handle = openSqlite(path);
    expect(handle.database.prepare("select count(*) as n from t").get()).toEqual({ n: 1 });
  });
});

describe("SHA-256 on node:sqlite hosts", () => {
  it("the synchronous hash edge/sqlite.ts installs gives WebCrypto's digest", async () => {
    const { sha256, toHex } = await import("../../src/sha256.ts");
    await import("../../edge/sqlite.ts");
    const data = new TextEncoder().encode("abc".repeat(5000));
    const web = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    expect(toHex(await sha256(data))).toBe(toHex(web));
    expect(toHex(await sha256(new TextEncoder().encode("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
