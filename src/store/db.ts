import { drizzle, type SqliteRemoteDatabase } from "drizzle-orm/sqlite-proxy";
import * as schema from "./schema.ts";

/** How drizzle asks for rows: `get` wants one row (or undefined), the others a list of rows. */
export type QueryMethod = "run" | "all" | "values" | "get";

export interface SqlStatement {
  sql: string;
  params: unknown[];
  method: QueryMethod;
}

/** Rows come back as arrays of column values, in select order. */
export interface SqlResult {
  rows: unknown[];
}

/**
 * The one thing a runtime must provide to host the store: run a statement, and run a batch of
 * statements atomically (all or nothing). D1 and node:sqlite each have an adapter in edge/.
 */
export interface SqlDriver {
  query(statement: SqlStatement): Promise<SqlResult>;
  batch(statements: SqlStatement[]): Promise<SqlResult[]>;
  /**
   * The most bound blob bytes one call should carry; larger writes are split over several calls.
   * D1's binding turns every bound byte into a JSON number inside the Worker (an Array of numbers,
   * then one JSON string for the whole batch), so a 25 MiB message in one batch would need several
   * times the 128 MB a Worker may use. Absent: no limit (node:sqlite binds bytes in place).
   */
  maxBatchBytes?: number;
}

export type Db = SqliteRemoteDatabase<typeof schema>;

export function openDb(driver: SqlDriver): Db {
  return drizzle(
    async (sql, params, method) => driver.query({ sql, params, method }),
    async (statements) => driver.batch(statements),
    { schema },
  );
}
