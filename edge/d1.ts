/**
 * The store on Cloudflare D1. Only the slice of the D1 API the driver uses is declared here, so the
 * rest of the code base does not pull in the Workers global types.
 */
import type { SqlDriver, SqlResult, SqlStatement } from "../src/store/db.ts";

export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  raw<T = unknown[]>(): Promise<T[]>;
  run(): Promise<unknown>;
}

export interface D1Database {
  prepare(query: string): D1PreparedStatement;
  batch(statements: D1PreparedStatement[]): Promise<Array<{ results?: unknown[] }>>;
}

function bindParam(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

function prepare(d1: D1Database, { sql, params }: SqlStatement): D1PreparedStatement {
  return d1.prepare(sql).bind(...params.map(bindParam));
}

/** Blob bytes per D1 call (see SqlDriver.maxBatchBytes): two 512 KiB chunks. */
export const D1_MAX_BATCH_BYTES = 1024 * 1024;

export function d1Driver(d1: D1Database): SqlDriver {
  return {
    maxBatchBytes: D1_MAX_BATCH_BYTES,
    async query(statement): Promise<SqlResult> {
      if (statement.method === "run") {
        await prepare(d1, statement).run();
        return { rows: [] };
      }
      const rows = await prepare(d1, statement).raw();
      return { rows: statement.method === "get" ? (rows[0] as unknown[]) : rows };
    },
    async batch(statements): Promise<SqlResult[]> {
      // D1 runs a batch as one transaction. Raw rows are requested by re-reading results as arrays.
      const results = await d1.batch(statements.map((s) => prepare(d1, s)));
      return results.map((r, i) => {
        const objects = (r.results ?? []) as Record<string, unknown>[];
        const rows = objects.map((o) => Object.values(o));
        return { rows: statements[i]?.method === "get" ? (rows[0] ?? []) : rows };
      });
    },
  };
}
