/**
 * The sample user Worker (test/fixtures/user-worker) as a user runs it: `mxedge` built to JavaScript and
 * installed in the Worker's node_modules (a link, as `npm install ../mxedge` makes), D1 migrated with
 * `wrangler d1 migrations apply --local`, and served by `wrangler dev` (workerd, local D1).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, ROOT } from "./harness.ts";

const run = promisify(execFile);
export const USER_WORKER = join(ROOT, "test/fixtures/user-worker");
const wrangler = join(ROOT, "node_modules/.bin/wrangler");
const quiet = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" };

/** `npm run build` (dist/: JavaScript + .d.ts) and node_modules/mxedge in the fixture pointing at this package. */
export async function installMxedge(): Promise<void> {
  await run(join(ROOT, "node_modules/.bin/tsc"), ["-p", "edge/tsconfig.build.json"], {
    cwd: ROOT,
    timeout: 120_000,
  });
  mkdirSync(join(USER_WORKER, "node_modules"), { recursive: true });
  rmSync(join(USER_WORKER, "node_modules/mxedge"), { force: true });
  symlinkSync("../../../..", join(USER_WORKER, "node_modules/mxedge"), "dir");
}

export interface WranglerDev {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** A fresh local D1 (wrangler's persistence directory) with every migration applied. */
export async function migratedLocalD1(): Promise<string> {
  const state = mkdtempSync(join(tmpdir(), "mxedge-wrangler-"));
  await run(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: USER_WORKER,
    env: quiet,
    timeout: 90_000,
  });
  return state;
}

/** Starts `wrangler dev` on the migrated state directory with these variables. */
export async function startWranglerDev(state: string, vars: Record<string, string>): Promise<WranglerDev> {
  // Multi-line values (a DNS zone) in an env file: backquoted, as dotenv allows; `$` escaped (dotenv-expand).
  const envFile = join(state, "dev.env");
  const line = ([k, v]: [string, string]) => `${k}=\`${v.replaceAll("$", "\\$")}\`\n`;
  writeFileSync(envFile, Object.entries(vars).map(line).join(""));
  const port = await freePort();
  const child: ChildProcess = spawn(
    wrangler,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      "--persist-to",
      state,
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
      "--test-scheduled", // GET /__scheduled runs the cron handler
      "--log-level",
      "warn",
    ],
    { cwd: USER_WORKER, env: quiet, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`wrangler dev did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}
