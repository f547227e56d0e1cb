/**
 * The store on a local SQLite file through `node:sqlite` (Node ≥ 22.19 and Deno 2).
 * WAL with synchronous=FULL: a COMMIT is on disk before the relay is told the message is stored.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { useSha256 } from "../src/sha256.ts";
import type { SqlDriver, SqlResult, SqlStatement } from "../src/store/db.ts";
import { applyMigrations, type Migration } from "../src/store/migrate.ts";

export interface SqliteHandle {
  driver: SqlDriver;
  database: DatabaseSync;
  close(): void;
}

interface PendingBatch {
  statements: SqlStatement[];
  resolve(results: SqlResult[]): void;
  reject(error: unknown): void;
}

export interface SqliteOptions {
  /** PRAGMA synchronous; FULL unless a caller measured otherwise. */
  synchronous?: "FULL" | "NORMAL";
  /** Group commit: the longest a batch waits for others to join its COMMIT (default 2 ms; see below). */
  maxGroupWaitMs?: number;
}

function toParam(value: unknown): SQLInputValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof Date) return value.getTime();
  return JSON.stringify(value);
}

// The store on node:sqlite runs on Node or Deno: hash synchronously (see src/sha256.ts).
useSha256((data) => createHash("sha256").update(data).digest());

export function openSqlite(path: string, options: SqliteOptions = {}): SqliteHandle {
  const database = new DatabaseSync(path);
  database.exec(`PRAGMA journal_mode = WAL;
    PRAGMA synchronous = ${options.synchronous ?? "FULL"};
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;`);
  const cache = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = database.prepare(sql);
      stmt.setReturnArrays(true);
      if (cache.size > 500) cache.clear();
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const run = ({ sql, params, method }: SqlStatement): SqlResult => {
    const stmt = prepare(sql);
    const args = params.map(toParam);
    switch (method) {
      case "run":
        stmt.run(...args);
        return { rows: [] };
      case "get":
        return { rows: stmt.get(...args) as unknown as unknown[] };
      default:
        return { rows: stmt.all(...args) as unknown[] };
    }
  };
  /**
   * Group commit: batches asked for in the same turn of the event loop share one transaction, so one
   * fsync (synchronous=FULL) makes all of them durable. Each batch runs in its own SAVEPOINT, so it
   * is still all-or-nothing on its own: a failing batch (say, a duplicate idempotency key) is rolled
   * back alone and only its caller sees the error. Every promise settles after the COMMIT returned,
   * so "stored" is never said before the data is on disk.
   *
   * A group is also committed as soon as a batch arrives when the group's first one has waited
   * maxGroupWaitMs, without waiting for the turn to end. Under load a turn processes a whole wave of
   * messages (bench:smtp: 10-30, ~0.6 ms each), and the first ones would wait for the last: committing
   * every ~2 ms answers them early and spreads the answers out (bench:smtp: 620 -> 800 msg/s, for one
   * more COMMIT every ~2 ms of work).
   */
  const maxGroupWaitMs = options.maxGroupWaitMs ?? 2;
  let pending: PendingBatch[] = [];
  let groupStarted = 0;
  const flush = () => {
    const group = pending;
    pending = [];
    if (group.length === 0) return;
    const outcomes: Array<{ ok: true; results: SqlResult[] } | { ok: false; error: unknown }> = [];
    try {
      database.exec("BEGIN IMMEDIATE");
      try {
        for (const b of group) {
          database.exec("SAVEPOINT batch");
          try {
            outcomes.push({ ok: true, results: b.statements.map(run) });
            database.exec("RELEASE batch");
          } catch (error) {
            database.exec("ROLLBACK TO batch");
            database.exec("RELEASE batch");
            outcomes.push({ ok: false, error });
          }
        }
        database.exec("COMMIT");
      } catch (err) {
        if (database.isTransaction) database.exec("ROLLBACK");
        throw err;
      }
    } catch (error) {
      for (const b of group) b.reject(error);
      return;
    }
    group.forEach((b, i) => {
      const o = outcomes[i]!;
      if (o.ok) b.resolve(o.results);
      else b.reject(o.error);
    });
  };
  const driver: SqlDriver = {
    async query(statement) {
      return run(statement);
    },
    batch(statements) {
      return new Promise<SqlResult[]>((resolve, reject) => {
        pending.push({ statements, resolve, reject });
        if (pending.length === 1) {
          groupStarted = performance.now();
          setImmediate(flush);
        } else if (performance.now() - groupStarted >= maxGroupWaitMs) queueMicrotask(flush);
      });
    },
  };
  return {
    driver,
    database,
    close: () => {
      flush();
      database.close();
    },
  };
}

/** Reads migrations/*.sql shipped with the package. */
export function readMigrations(dir: URL = new URL("../migrations/", import.meta.url)): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((name) => ({ name, sql: readFileSync(new URL(name, dir), "utf8") }));
}

export async function migrateSqlite(handle: SqliteHandle): Promise<string[]> {
  return applyMigrations(handle.driver, readMigrations());
}
