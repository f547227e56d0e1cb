/**
 * Statements on the ingest hot path, built once. drizzle renders the SQL from the schema at start-up
 * with `sql.placeholder()` where the values go; each call then only binds values (each through its
 * column's encoder, e.g. JSON for json columns) instead of building the query again. Building a query
 * through drizzle costs more CPU than SQLite takes to run a small one.
 */
import { is, Param, Placeholder } from "drizzle-orm";
import type { QueryMethod, SqlStatement } from "./db.ts";

type Binder<K extends string> = (values: Readonly<Record<K, unknown>>) => unknown;

export class Compiled<K extends string> {
  readonly sql: string;
  readonly method: QueryMethod;
  readonly #binders: Binder<K>[];

  /** `query`: a drizzle builder (insert/update/select) whose values are `sql.placeholder(name)` for names K. */
  constructor(query: { toSQL(): { sql: string; params: unknown[] } }, method: QueryMethod = "run") {
    const built = query.toSQL();
    this.sql = built.sql;
    this.method = method;
    this.#binders = built.params.map((p): Binder<K> => {
      if (is(p, Placeholder)) {
        const name = p.name as K;
        return (v) => v[name];
      }
      if (is(p, Param) && is(p.value, Placeholder)) {
        const name = p.value.name as K;
        const encoder = p.encoder;
        return encoder ? (v) => encoder.mapToDriverValue(v[name]) : (v) => v[name];
      }
      // A constant drizzle bound itself (already in driver form).
      return () => p;
    });
  }

  bind(values: Readonly<Record<K, unknown>>): SqlStatement {
    return { sql: this.sql, params: this.#binders.map((b) => b(values)), method: this.method };
  }
}
