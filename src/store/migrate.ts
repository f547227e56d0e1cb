/**
 * Applies drizzle-kit migrations the way `wrangler d1 migrations apply` does: files in name order,
 * each recorded in `d1_migrations`, so a database migrated by either tool is recognised by the other.
 */
import type { SqlDriver } from "./db.ts";

export interface Migration {
  /** File name, e.g. "0000_init.sql". */
  name: string;
  sql: string;
}

const TRACKING_TABLE = `CREATE TABLE IF NOT EXISTS d1_migrations(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE,
  applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

/** drizzle-kit separates statements with `--> statement-breakpoint`. */
export function splitStatements(sqlText: string): string[] {
  return sqlText
    .split(/-->\s*statement-breakpoint/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Returns the names of the migrations it applied (none when the database is current). */
export async function applyMigrations(driver: SqlDriver, migrations: Migration[]): Promise<string[]> {
  await driver.query({ sql: TRACKING_TABLE, params: [], method: "run" });
  const done = await driver.query({ sql: "SELECT name FROM d1_migrations", params: [], method: "all" });
  const applied = new Set(done.rows.map((r) => String((r as unknown[])[0])));
  const pending = [...migrations]
    .sort((a, b) => a.name.localeCompare(b.name))
    .filter((m) => !applied.has(m.name));
  for (const m of pending) {
    await driver.batch([
      ...splitStatements(m.sql).map((sql) => ({ sql, params: [], method: "run" as const })),
      { sql: "INSERT INTO d1_migrations (name) VALUES (?)", params: [m.name], method: "run" },
    ]);
  }
  return pending.map((m) => m.name);
}
