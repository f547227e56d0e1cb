/**
 * `wrangler d1 migrations apply DB --local` applies the same migrations/ the embedded server applies,
 * and both record them in d1_migrations, so either tool recognises a database the other migrated.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const run = promisify(execFile);
const wrangler = join(ROOT, "node_modules/.bin/wrangler");
const persist = mkdtempSync(join(tmpdir(), "mxedge-d1-"));
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };

describe("wrangler local D1", () => {
  afterAll(() => rmSync(persist, { recursive: true, force: true }));

  it("applies every migration file, and a second run finds nothing to do", async () => {
    const files = readdirSync(join(ROOT, "migrations")).filter((f) => f.endsWith(".sql"));
    const first = await run(
      wrangler,
      ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
      { cwd: ROOT, env, timeout: 90_000 },
    );
    for (const f of files) expect(first.stdout).toContain(f);
    const tables = await run(
      wrangler,
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persist,
        "--json",
        "--command",
        "select name from d1_migrations order by id",
      ],
      { cwd: ROOT, env, timeout: 90_000 },
    );
    const rows = (JSON.parse(tables.stdout) as Array<{ results: Array<{ name: string }> }>)[0]?.results ?? [];
    expect(rows.map((r) => r.name)).toEqual(files.sort());
    const again = await run(
      wrangler,
      ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
      { cwd: ROOT, env, timeout: 90_000 },
    );
    expect(again.stdout).toMatch(/No migrations to apply/i);
  });
});
