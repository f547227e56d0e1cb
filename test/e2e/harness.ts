/**
 * Starts the real `mxedge` process (under Node or Deno) on free loopback ports, and drives it with the
 * real CLI and real clients (Python smtplib).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI = join(ROOT, "relay/cli.ts");
const run = promisify(execFile);

export type Runtime = "node" | "deno";

export function runtimeCommand(runtime: Runtime): { cmd: string; args: string[] } {
  if (runtime === "deno") {
    return { cmd: join(ROOT, "node_modules/.bin/deno"), args: ["run", "--allow-all", "--quiet", CLI] };
  }
  return { cmd: process.execPath, args: [CLI] };
}

/**
 * A free loopback port below Linux's ephemeral range (32768+), so that no outgoing connection of this
 * or another test can take it between this check and the server's listen().
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

export interface Ports {
  smtp: number;
  submission: number;
  submissions: number;
  imap: number;
  imaps: number;
  http: number;
}

export interface RunningMxedge {
  ports: Ports;
  dataDir: string;
  adminToken: string;
  output: () => string;
  api<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
  cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Sends a signal (SIGHUP reload, SIGTERM drain). */
  signal(name: NodeJS.Signals): void;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function cli(
  args: string[],
  opts: { stdin?: string; env?: Record<string, string>; runtime?: Runtime } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { cmd, args: base } = runtimeCommand(opts.runtime ?? "node");
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      [...base, ...args],
      { env: { ...process.env, MXEDGE_LOG: "error", ...opts.env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(opts.stdin ?? "");
  });
}

export interface StartOptions {
  runtime?: Runtime;
  env?: Record<string, string>;
  /** Extra command-line arguments for `mxedge serve`, e.g. ["--config", path]. */
  args?: string[];
  /** "relay": `mxedge relay` (give `--edge URL` in args and MXEDGE_RELAY_SECRET in env). */
  command?: "serve" | "relay";
  /** Reuse a data directory (a restart); it is then left in place on stop. */
  dataDir?: string;
}

function emptyZone(dir: string): string {
  const path = join(dir, "empty.zone");
  writeFileSync(path, "; no records: every lookup is NXDOMAIN\n");
  return path;
}

export async function startMxedge(opts: StartOptions = {}): Promise<RunningMxedge> {
  const runtime = opts.runtime ?? "node";
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "mxedge-e2e-"));
  const ports: Ports = {
    smtp: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imap: await freePort(),
    imaps: await freePort(),
    http: await freePort(),
  };
  const { cmd, args } = runtimeCommand(runtime);
  const flags = [
    opts.command ?? "serve",
    "--data",
    dataDir,
    "--host",
    "127.0.0.1",
    "--hostname",
    "mx.e2e.test",
  ];
  for (const [k, v] of Object.entries(ports)) flags.push(`--${k}`, String(v));
  flags.push(...(opts.args ?? []));
  const { child, output, exited } = await spawnUntilReady(
    "mxedge",
    cmd,
    [...args, ...flags],
    // DNS answers come from a zone file (empty unless a test gives one), so no test depends on the network.
    { ...process.env, MXEDGE_LOG: "info", MXEDGE_DNS_ZONE: emptyZone(dataDir), ...opts.env },
    60_000,
  );
  const adminToken = /admin token\s+(\S+)/.exec(output())?.[1] ?? "";
  return {
    ports,
    dataDir,
    adminToken,
    output,
    async api<T>(path: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${adminToken}`);
      const res = await fetch(`http://127.0.0.1:${ports.http}${path}`, { ...init, headers });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, body: body as T };
    },
    cli: (a, stdin) => cli([...a, "--data", dataDir], { stdin, runtime }),
    signal: (name) => child.kill(name),
    exited,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a Python 3 script (smtplib/imaplib are real clients); returns its stdout, throws on failure. */
export async function python(script: string, args: string[] = []): Promise<string> {
  const { stdout } = await run("python3", ["-c", script, ...args], { timeout: 60_000 });
  return stdout;
}

export interface SmtpResult {
  ok: boolean;
  stage: string;
  code: number;
  reply: string;
}

export async function smtpSend(
  mode: "plain" | "starttls" | "ssl",
  port: number,
  from: string,
  rcpt: string,
  subject: string,
  auth?: { user: string; password: string },
): Promise<SmtpResult> {
  const args = [join(ROOT, "test/e2e/smtp-send.py"), mode, String(port), from, rcpt, subject];
  if (auth) args.push(auth.user, auth.password);
  const { stdout } = await run("python3", args, { timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as SmtpResult;
}

/**
 * Spawns an mxedge process and resolves once it prints its `ready` line; rejects with everything it
 * printed when it exits first or takes longer than `timeoutMs`.
 */
export async function spawnUntilReady(
  label: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child: ChildProcess = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start:\n${output}`)), timeoutMs);
    const check = () => {
      if (/^ready$/m.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code}:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.once("exit", (code) => r(code));
  });
  return { child, output: () => output, exited };
}
