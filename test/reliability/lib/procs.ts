/**
 * Real mxedge processes for the reliability suite: `mxedge serve` (edge + relay, or the edge for remote
 * relays) and `mxedge relay --edge URL`, on fixed ports so a process killed with SIGKILL can be restarted
 * in place. Also RSS sampling from /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, runtimeCommand } from "../../e2e/harness.ts";

export interface MxPorts {
  smtp: number;
  submission: number;
  submissions: number;
  imap: number;
  imaps: number;
  http: number;
}

export async function freePorts(): Promise<MxPorts> {
  return {
    smtp: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imap: await freePort(),
    imaps: await freePort(),
    http: await freePort(),
  };
}

export interface MxProcess {
  pid: number;
  ports: MxPorts;
  output(): string;
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s). */
  stop(): Promise<void>;
  alive(): boolean;
  rssBytes(): number;
}

export interface SpawnOptions {
  mode: "serve" | "relay";
  dataDir: string;
  ports: MxPorts;
  hostname?: string;
  /** Remote mode: the edge's base URL. */
  edgeUrl?: string;
  /** TOML written to <dataDir>/<name>.toml and passed with --config. */
  toml?: string;
  env?: Record<string, string>;
  /** Which port flags to pass (default all); a config file with its own listener list names fewer. */
  portFlags?: Array<keyof MxPorts>;
  startTimeoutMs?: number;
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function spawnMx(opts: SpawnOptions): Promise<MxProcess> {
  const { cmd, args } = runtimeCommand("node");
  const flags = [opts.mode, "--data", opts.dataDir, "--host", "127.0.0.1"];
  flags.push("--hostname", opts.hostname ?? "mx.reliability.test");
  for (const [k, v] of Object.entries(opts.ports)) {
    if (opts.portFlags && !opts.portFlags.includes(k as keyof MxPorts)) continue;
    flags.push(`--${k}`, String(v));
  }
  if (opts.edgeUrl) flags.push("--edge", opts.edgeUrl);
  if (opts.toml !== undefined) {
    const path = join(opts.dataDir, `${opts.mode}-${opts.ports.smtp}.toml`);
    writeFileSync(path, opts.toml);
    flags.push("--config", path);
  }
  const zone = join(opts.dataDir, "empty.zone");
  writeFileSync(zone, "; no records\n");
  const child: ChildProcess = spawn(cmd, [...args, ...flags], {
    env: { ...process.env, MXEDGE_LOG: "error", MXEDGE_DNS_ZONE: zone, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`mxedge ${opts.mode} did not start:\n${out}`)),
      opts.startTimeoutMs ?? 60_000,
    );
    const check = () => {
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        child.stdout?.off("data", check);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`mxedge ${opts.mode} exited (${code ?? signal}) during start-up:\n${out}`));
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid ?? 0,
    ports: opts.ports,
    output: () => out,
    alive,
    rssBytes: () => rssOf(child.pid ?? 0),
    async kill9() {
      if (!alive()) return;
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (!alive()) return;
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (alive()) child.kill("SIGKILL");
      await exited;
    },
  };
}

export const DOMAIN = "reliability.test";
export const USER = "inbox@reliability.test";
export const PASSWORD = "reliability-password-1";

/** Adds the test domain and user through a running server's admin API (as an operator's script would). */
export async function provision(mx: MxProcess, dataDir: string): Promise<void> {
  const { adminToken } = secretsOf(dataDir);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${mx.ports.http}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  };
  await post("/api/domains", { name: DOMAIN });
  await post("/api/users", { address: USER, password: PASSWORD });
}

export function secretsOf(dataDir: string): { relaySecret: string; adminToken: string } {
  return JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as {
    relaySecret: string;
    adminToken: string;
  };
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(pid: () => number, everyMs = 500): { stop(): number[]; peak(): number } {
  const samples: number[] = [];
  const t = setInterval(() => {
    const v = rssOf(pid());
    if (v > 0) samples.push(v);
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      return samples;
    },
    peak: () => Math.max(0, ...samples),
  };
}
