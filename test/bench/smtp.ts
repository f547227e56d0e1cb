/**
 * `npm run bench:smtp` — SMTP ingest throughput, mxedge (embedded, durable SQLite) vs Debian's Postfix
 * (a private instance accepting for a local domain into a Maildir), with the same load generator:
 * N concurrent senders, each on one connection with PIPELINING, M messages in total of SIZE bytes.
 * Reports msgs/s, p50/p99 from the end of DATA to the 250, peak RSS; then the ratio. Last, the relay's
 * RSS growth while it streams one 50 MiB message to the edge (must stay under 32 MiB).
 *
 * Also prints CPU seconds per message of the server (mxedge: the serve process, all threads; Postfix: its
 * master and all children), of the load generator, and how busy the whole machine was (other work on a
 * shared machine shows up there).
 *
 *   npm run bench:smtp -- [--senders 50] [--messages 5000] [--warmup 500] [--size 10240] [--no-postfix] [--no-big]
 *                         [--no-thread]   (mxedge with the edge in the SMTP thread; default: MXEDGE_EDGE_THREAD=1)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cli, freePort, runtimeCommand } from "../e2e/harness.ts";
import { postfixAvailable, startPostfix } from "../e2e/smtp-postfix.ts";
import { openSession } from "../e2e/smtp-raw.ts";

const { values } = parseArgs({
  options: {
    senders: { type: "string", default: "50" },
    messages: { type: "string", default: "5000" },
    warmup: { type: "string", default: "500" },
    size: { type: "string", default: "10240" },
    "no-postfix": { type: "boolean", default: false },
    "no-big": { type: "boolean", default: false },
    "no-thread": { type: "boolean", default: false },
  },
});
const SENDERS = Number(values.senders);
const MESSAGES = Number(values.messages);
/** Messages sent to each server, untimed, before the measured load: a long-running MX is warm. */
const WARMUP = Number(values.warmup);
const SIZE = Number(values.size);

interface Result {
  name: string;
  /** CPU seconds the server used during the load (all its threads/processes), when measured. */
  serverCpu: number | null;
  /** CPU seconds of this process (the load generator) during the load. */
  loaderCpu: number;
  /** Share of the machine's CPU time that was busy during the load (all processes, all cores). */
  machineBusy: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  failures: number;
  peakRssMiB: number | null;
}

function body(n: number, to: string): string {
  const head = `From: bench@sender.test\r\nTo: ${to}\r\nSubject: bench ${n}\r\nMessage-ID: <bench.${n}.${Date.now()}@sender.test>\r\n\r\n`;
  const line = `${"abcdefghij".repeat(7)}\r\n`;
  return head + line.repeat(Math.max(1, Math.ceil((SIZE - head.length) / line.length)));
}

/** The load generator: SENDERS connections, `total` messages in all. */
async function load(
  port: number,
  to: string,
  total = MESSAGES,
): Promise<{ seconds: number; latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      const c = await openSession(port, "bench.sender.test");
      for (;;) {
        const n = next++;
        if (n >= total) break;
        c.write(`MAIL FROM:<bench@sender.test>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
        const codes = [(await c.reply())?.code, (await c.reply())?.code, (await c.reply())?.code];
        if (codes[2] !== 354) {
          failures++;
          c.write("RSET\r\n");
          await c.reply();
          continue;
        }
        // Body and terminator in one write, as a sending MTA flushes them: a separate ".\r\n" write
        // waits (Nagle) for the ACK of the body's last segment, ~40 ms of delayed ACK per message that
        // measured the TCP stack instead of either server.
        const t = performance.now();
        c.write(`${body(n, to)}.\r\n`);
        const end = await c.reply(120_000);
        latencies.push(performance.now() - t);
        if (end?.code !== 250) failures++;
      }
      c.write("QUIT\r\n");
      await c.reply(5000);
      c.close();
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies, failures };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

const TICK = 100; // USER_HZ on Linux

/** utime+stime (+ reaped children's) of one process, in seconds. */
function processCpu(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    const own = Number(f[11]) + Number(f[12]);
    return (withChildren ? own + Number(f[13]) + Number(f[14]) : own) / TICK;
  } catch {
    return 0;
  }
}

/** CPU seconds per thread of one process, keyed "tid name". */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(`${tid} ${name}`, (Number(f[11]) + Number(f[12])) / TICK);
    }
  } catch {}
  return out;
}

/** A process and all its live descendants (CPU of exited ones is in their parents' children totals). */
function treeCpu(root: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  let total = 0;
  const walk = (pid: number) => {
    total += processCpu(pid, true);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return total;
}

/** [busy, total] jiffies of the whole machine. */
function machineTicks(): [number, number] {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return [total - idle, total];
}

/** Runs the load while measuring the server's CPU (`cpu()` gives its running total), ours and the machine's. */
async function measured(port: number, to: string, cpu: () => number) {
  // The same warm-up for every server: mxedge's JIT and Postfix's smtpd/cleanup processes both start cold.
  if (WARMUP > 0) {
    const w = await load(port, to, WARMUP);
    if (w.failures > 0) throw new Error(`warm-up: ${w.failures} of ${WARMUP} messages failed`);
  }
  const server0 = cpu();
  const loader0 = process.cpuUsage();
  const [busy0, total0] = machineTicks();
  const r = await load(port, to);
  const loader = process.cpuUsage(loader0);
  const [busy1, total1] = machineTicks();
  return {
    ...r,
    serverCpu: cpu() - server0,
    loaderCpu: (loader.user + loader.system) / 1e6,
    machineBusy: (busy1 - busy0) / Math.max(1, total1 - total0),
  };
}

function procStatus(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

async function waitReady(child: ChildProcess): Promise<string> {
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${out}`)), 60_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
}

async function startServe(dataDir: string, extraArgs: string[] = []) {
  const ports = {
    smtp: await freePort(),
    submission: await freePort(),
    submissions: await freePort(),
    imap: await freePort(),
    imaps: await freePort(),
    http: await freePort(),
  };
  const flags = [
    "serve",
    "--data",
    dataDir,
    "--host",
    "127.0.0.1",
    "--hostname",
    "mx.bench.test",
    ...extraArgs,
  ];
  for (const [k, v] of Object.entries(ports)) flags.push(`--${k}`, String(v));
  const { cmd, args } = runtimeCommand("node");
  const child = spawn(cmd, [...args, ...flags], {
    env: {
      ...process.env,
      MXEDGE_LOG: "error",
      MXEDGE_EDGE_THREAD: values["no-thread"] ? "0" : "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitReady(child);
  return { child, ports };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

/**
 * DNS for SPF/DMARC from a zone file: no network, deterministic answers (the steady state of the TTL
 * cache for a repeat sender). Every check still runs: SPF passes for 127.0.0.1, DMARC p=none.
 */
function zoneConfig(dir: string): string {
  const zone = join(dir, "bench.zone");
  writeFileSync(
    zone,
    'sender.test. TXT "v=spf1 ip4:127.0.0.0/8 -all"\n_dmarc.sender.test. TXT "v=DMARC1; p=none"\n',
  );
  const toml = join(dir, "bench.toml");
  writeFileSync(toml, `[dns]\nmode = "zone"\nzoneFile = "${zone}"\n`);
  return toml;
}

async function benchMxedge(): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), "mxedge-bench-"));
  try {
    await cli(["domain", "add", "bench.test", "--data", dataDir]);
    await cli(["user", "add", "user@bench.test", "--password-stdin", "--data", dataDir], {
      stdin: "bench-password-1\n",
    });
    const { child, ports } = await startServe(dataDir, ["--config", zoneConfig(dataDir)]);
    try {
      const pid = child.pid ?? 0;
      const threads0 = threadCpu(pid);
      const r = await measured(ports.smtp, "user@bench.test", () => processCpu(pid));
      const busiest = [...threadCpu(pid)]
        .map(([k, v]) => [k.replace(/^\d+ /, ""), v - (threads0.get(k) ?? 0)] as const)
        .filter(([, v]) => v >= 0.05)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(1)} s`);
      console.log(
        `mxedge threads' CPU during the load: ${busiest.join(", ")} (of ${r.seconds.toFixed(1)} s)`,
      );
      return summarize(
        `mxedge (embedded, SQLite${values["no-thread"] ? ", no edge thread" : ""})`,
        r,
        procStatus(pid, "VmHWM"),
      );
    } finally {
      await stop(child);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchPostfix(): Promise<Result | null> {
  if (!postfixAvailable()) {
    console.log("postfix: not available (needs the Debian package and root) — skipped");
    return null;
  }
  const port = await freePort();
  const pf = await startPostfix({ listen: port, maildirDomain: "bench.test" });
  try {
    const masterPid = Number(readFileSync(join(pf.dir, "queue", "pid", "master.pid"), "utf8").trim());
    const r = await measured(port, "user@bench.test", () => treeCpu(masterPid));
    // Also wait for the Maildir deliveries, and report them separately (acceptance is what SMTP measures).
    const started = performance.now();
    const count = () => {
      try {
        return readdirSync(join(pf.maildir, "new")).length;
      } catch {
        return 0;
      }
    };
    while (count() < WARMUP + MESSAGES - r.failures && performance.now() - started < 120_000) {
      await new Promise((res) => setTimeout(res, 200));
    }
    console.log(
      `postfix: ${count()} messages in the Maildir, ${((performance.now() - started) / 1000).toFixed(1)} s after the last 250`,
    );
    return summarize("postfix (queue + Maildir)", r, null);
  } finally {
    await pf.stop();
  }
}

function summarize(
  name: string,
  r: {
    seconds: number;
    latencies: number[];
    failures: number;
    serverCpu: number | null;
    loaderCpu: number;
    machineBusy: number;
  },
  peak: number | null,
): Result {
  return {
    name,
    serverCpu: r.serverCpu,
    loaderCpu: r.loaderCpu,
    machineBusy: r.machineBusy,
    seconds: r.seconds,
    rate: (MESSAGES - r.failures) / r.seconds,
    p50: pct(r.latencies, 50),
    p99: pct(r.latencies, 99),
    failures: r.failures,
    peakRssMiB: peak,
  };
}

function print(r: Result) {
  console.log(
    `${r.name.padEnd(28)} ${r.rate.toFixed(0).padStart(6)} msgs/s  ${r.seconds.toFixed(1)} s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  failures ${r.failures}` +
      (r.peakRssMiB !== null ? `  peak RSS ${r.peakRssMiB.toFixed(0)} MiB` : ""),
  );
  const perMsg = (s: number) => `${((s * 1000) / (MESSAGES - r.failures)).toFixed(2)} ms/msg`;
  console.log(
    `${"".padEnd(28)} server CPU ${r.serverCpu === null ? "n/a" : perMsg(r.serverCpu)}  load generator CPU ${perMsg(r.loaderCpu)}  machine busy ${(r.machineBusy * 100).toFixed(0)}% of ${cpus().length} cores`,
  );
}

/** One 50 MiB message through a remote-mode relay; the relay's RSS must grow by < 32 MiB. */
async function benchBigMessage(): Promise<boolean> {
  const dataDir = mkdtempSync(join(tmpdir(), "mxedge-bench-big-"));
  const relayDir = mkdtempSync(join(tmpdir(), "mxedge-bench-relay-"));
  const toml = join(relayDir, "mxedge.toml");
  writeFileSync(toml, "[limits]\nmaxMessageBytes = 67108864\n");
  let edge: ChildProcess | null = null;
  let relay: ChildProcess | null = null;
  try {
    await cli(["domain", "add", "bench.test", "--data", dataDir]);
    await cli(["user", "add", "user@bench.test", "--password-stdin", "--data", dataDir], {
      stdin: "bench-password-1\n",
    });
    const served = await startServe(dataDir, ["--config", toml]);
    edge = served.child;
    const secret = (
      JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as { relaySecret: string }
    ).relaySecret;
    const smtp = await freePort();
    const flags = [
      "relay",
      "--edge",
      `http://127.0.0.1:${served.ports.http}`,
      "--data",
      relayDir,
      "--config",
      toml,
    ];
    flags.push("--host", "127.0.0.1", "--smtp", String(smtp));
    for (const k of ["submission", "submissions", "imap", "imaps"])
      flags.push(`--${k}`, String(await freePort()));
    const { cmd, args } = runtimeCommand("node");
    relay = spawn(cmd, [...args, ...flags], {
      env: { ...process.env, MXEDGE_LOG: "error", MXEDGE_RELAY_SECRET: secret },
      stdio: ["ignore", "pipe", "pipe"],
    });
    await waitReady(relay);
    relay.stderr?.on("data", (d: Buffer) => process.stderr.write(d));
    const pid = relay.pid ?? 0;
    const c = await openSession(smtp);
    // Warm up: one small message, so the baseline includes the code paths' own allocations.
    c.write("MAIL FROM:<big@sender.test>\r\nRCPT TO:<user@bench.test>\r\nDATA\r\n");
    for (let i = 0; i < 3; i++) await c.reply();
    c.write("Subject: warm\r\nMessage-ID: <warm@bench>\r\n\r\nx\r\n.\r\n");
    await c.reply();
    const before = procStatus(pid, "VmRSS");
    c.write("MAIL FROM:<big@sender.test>\r\nRCPT TO:<user@bench.test>\r\nDATA\r\n");
    for (let i = 0; i < 3; i++) await c.reply();
    const line = Buffer.from(`${"0123456789".repeat(10)}\r\n`);
    const block = Buffer.concat(Array.from({ length: 640 }, () => line)); // 64 KiB
    c.write("Subject: big\r\nMessage-ID: <big@bench>\r\n\r\n");
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, procStatus(pid, "VmRSS"));
    }, 20);
    for (let sent = 0; sent < 50 * 1024 * 1024; sent += block.length) {
      if (!c.socket.write(block)) await new Promise((r) => c.socket.once("drain", r));
    }
    c.write(".\r\n");
    const end = await c.reply(120_000);
    clearInterval(sampler);
    peak = Math.max(peak, procStatus(pid, "VmHWM") > peak ? procStatus(pid, "VmRSS") : peak);
    c.close();
    const growth = peak - before;
    console.log(
      `50 MiB message via relay → edge: ${end?.code} · relay RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB (growth ${growth.toFixed(1)} MiB, limit 32)`,
    );
    return end?.code === 250 && growth < 32;
  } finally {
    if (relay) await stop(relay);
    if (edge) await stop(edge);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(relayDir, { recursive: true, force: true });
  }
}

console.log(
  `bench:smtp — ${SENDERS} senders × ${MESSAGES} messages × ${SIZE} bytes, after ${WARMUP} untimed warm-up messages`,
);
const mx = await benchMxedge();
print(mx);
const pf = values["no-postfix"] ? null : await benchPostfix();
if (pf) {
  print(pf);
  console.log(`ratio mxedge/postfix: ${(mx.rate / pf.rate).toFixed(2)} (msgs/s)`);
}
let ok = mx.failures === 0;
if (!values["no-big"]) ok = (await benchBigMessage()) && ok;
process.exit(ok ? 0 : 1);
