/** Starts `mxedge relay --edge URL` (remote mode) as a real process on free loopback ports. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, runtimeCommand, spawnUntilReady } from "./harness.ts";

export interface RunningRelay {
  smtp: number;
  imap: number;
  imaps: number;
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
  const { child, output, exited } = await spawnUntilReady(
    "relay",
    cmd,
    [...args, ...flags],
    { ...process.env, MXEDGE_LOG: "info", MXEDGE_RELAY_SECRET: opts.secret },
    30_000,
  );
  return {
    exited,
    smtp: ports.smtp,
    imap: ports.imap,
    imaps: ports.imaps,
    http: ports.http,
    pid: child.pid ?? 0,
    output,
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
