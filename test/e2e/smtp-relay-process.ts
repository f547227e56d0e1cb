/** Starts `mxedge relay --edge URL` (remote mode) as a real process on free loopback ports. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, runtimeCommand } from "./harness.ts";

export interface RunningRelay {
  smtp: number;
  /** The admin port: /healthz, /readyz, /metrics. */
  http: number;
  pid: number;
  output: () => string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startRelay(opts: {
  edgeUrl: string;
  secret: string;
  toml?: string;
  /** Another way to run `mxedge` (the single binary); default: relay/cli.ts under Node. */
  command?: { cmd: string; args: string[] };
}): Promise<RunningRelay> {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-relay-"));
  const ports = {
    smtp: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imap: await freePort(),
    imaps: await freePort(),
    http: await freePort(),
  };
  const flags = [
    "relay",
    "--edge",
    opts.edgeUrl,
    "--data",
    dir,
    "--host",
    "127.0.0.1",
    "--hostname",
    "relay.e2e.test",
  ];
  for (const [k, v] of Object.entries(ports)) flags.push(`--${k}`, String(v));
  if (opts.toml !== undefined) {
    writeFileSync(join(dir, "mxedge.toml"), opts.toml);
    flags.push("--config", join(dir, "mxedge.toml"));
  }
  const { cmd, args } = opts.command ?? runtimeCommand("node");
  const child: ChildProcess = spawn(cmd, [...args, ...flags], {
    env: { ...process.env, MXEDGE_LOG: "info", MXEDGE_RELAY_SECRET: opts.secret },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 30_000);
    const check = () => {
      if (/^ready$/m.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.once("exit", (code) => r(code));
  });
  return {
    exited,
    smtp: ports.smtp,
    http: ports.http,
    pid: child.pid ?? 0,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
