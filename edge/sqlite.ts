/**
 * The store on a local SQLite file through `node:sqlite` (Node ≥ 22.19 and Deno 2).
 * WAL with synchronous=FULL: a COMMIT is on disk before the relay is told the message is stored.
 */
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { SqlDriver, SqlResult, SqlStatement } from "../src/store/db.ts";
import { applyMigrations, type Migration } from "../src/store/migrate.ts";

export interface SqliteHandle {
  driver: SqlDriver;
  database: DatabaseSync;
  close(): void;
}

export interface SqliteOptions {
  /** PRAGMA synchronous; FULL unless a caller measured otherwise. */
  synchronous?: "FULL" | "NORMAL";
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
  const driver: SqlDriver = {
    async query(statement) {
      return run(statement);
    },
    async batch(statements) {
      // Synchronous from BEGIN to COMMIT: nothing else on this thread can interleave.
      database.exec("BEGIN IMMEDIATE");
      try {
        const results = statements.map(run);
        database.exec("COMMIT");
        return results;
      } catch (err) {
        database.exec("ROLLBACK");
        throw err;
      }
    },
  };
  return { driver, database, close: () => database.close() };
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
