/**
 * The edge as Cloudflare runs it, locally: `wrangler dev` (workerd + local D1 with the repo's
 * migrations applied by `wrangler d1 migrations apply --local`). Started in its own process group so
 * that kill() takes workerd down with it, the way an outage would.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, ROOT } from "./harness.ts";
import { waitForPort } from "./tools.ts";

const run = promisify(execFile);
const wrangler = join(ROOT, "node_modules/.bin/wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" };

export interface WranglerDev {
  url: string;
  port: number;
  output(): string;
  /** SIGKILL to the whole process group: the edge is gone mid-whatever. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function applyMigrations(persist: string): Promise<void> {
  await run(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], {
    cwd: ROOT,
    env,
    timeout: 90_000,
  });
}

export async function startWranglerDev(persist: string, vars: Record<string, string>): Promise<WranglerDev> {
  const port = await freePort();
  const inspector = await freePort();
  let child: ChildProcess | null = null;
  let out = "";
  const start = async () => {
    const args = ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port)];
    args.push("--inspector-port", String(inspector), "--persist-to", persist, "--test-scheduled");
    for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
    child = spawn(wrangler, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    await waitForPort(port, 90_000);
    // The port opens before the Worker is loaded: wait for an answer.
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`wrangler dev did not answer:\n${out}`);
  };
  const kill = async () => {
    const c = child;
    if (!c?.pid || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {}
    await exited;
    // Until the port is free, a restart would fail.
    for (let i = 0; i < 100; i++) {
      const open = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then(() => true)
        .catch(() => false);
      if (!open) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => out,
    kill,
    restart: start,
    stop: kill,
  };
}
