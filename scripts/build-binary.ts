/**
 * `npm run build:binary`: one executable for linux-x64 that runs `mxedge` without Node or npm installed.
 *
 *   --runtime deno   `deno compile` (Deno 2 from the `deno` npm package). It needs Deno's runtime base
 *                    binary (denort), which deno downloads from Deno's release server, or DENORT_BIN.
 *   --runtime node   a Node single executable application: relay/cli.ts bundled by esbuild into one
 *                    CommonJS file, injected into a copy of this Node binary with postject.
 *   (default)        deno when DENORT_BIN is set, else node; the line printed says which one was built.
 *
 * Output: dist/mxedge (override with --out). Prints the size. Embedded `mxedge serve` reads the SQL
 * migrations from `migrations/` next to the executable; `mxedge relay` (remote mode) needs nothing else.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { runtime: { type: "string" }, out: { type: "string" } },
});
const out = resolve(values.out ?? join(ROOT, "dist/mxedge"));
const runtime = values.runtime ?? (process.env.DENORT_BIN ? "deno" : "node");
const bin = (name: string) => join(ROOT, "node_modules/.bin", name);
mkdirSync(dirname(out), { recursive: true });
const started = Date.now();

if (runtime === "deno") {
  execFileSync(
    bin("deno"),
    [
      "compile",
      "--allow-all",
      "--no-check",
      "--include",
      "migrations",
      "--target",
      "x86_64-unknown-linux-gnu",
    ].concat(["--output", out, join(ROOT, "relay/cli.ts")]),
    { stdio: "inherit", cwd: ROOT },
  );
} else if (runtime === "node") {
  const work = join(dirname(out), ".sea");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const bundle = join(work, "mxedge.cjs");
  // import.meta.url (used to find migrations/) becomes a path beside the executable.
  execFileSync(
    bin("esbuild"),
    [join(ROOT, "relay/cli.ts"), "--bundle", "--platform=node", "--format=cjs", "--target=node22"]
      .concat(["--log-level=warning", `--outfile=${bundle}`, "--define:import.meta.url=__mxedge_url"])
      .concat([
        "--banner:js=const __mxedge_url = require('node:url').pathToFileURL(require('node:path').join(require('node:path').dirname(process.execPath), 'lib', 'mxedge.js')).href;",
      ]),
    { stdio: "inherit", cwd: ROOT },
  );
  const config = join(work, "sea.json");
  const blob = join(work, "sea.blob");
  writeFileSync(
    config,
    JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false }),
  );
  execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: "ignore" });
  rmSync(out, { force: true });
  copyFileSync(process.execPath, out);
  chmodSync(out, 0o755);
  execFileSync(
    bin("postject"),
    [out, "NODE_SEA_BLOB", blob, "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"],
    { stdio: "ignore" },
  );
  rmSync(work, { recursive: true, force: true });
} else {
  throw new Error(`--runtime must be deno or node, not ${runtime}`);
}
cpSync(join(ROOT, "migrations"), join(dirname(out), "migrations"), { recursive: true });
const size = statSync(out).size;
console.log(
  `built ${out} (${runtime === "deno" ? "deno compile" : "Node single executable"}, linux-x64): ${size} bytes (${(size / 1048576).toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
