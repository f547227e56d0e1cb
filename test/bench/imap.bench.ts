/**
 * `npm run bench:imap`: mxedge (embedded, `mxedge serve`) and Debian's Dovecot each hold the same
 * mailbox of BENCH_IMAP_MESSAGES (default 10,000) messages; both are driven over IMAPS on loopback
 * by the same minimal client, and by mbsync for the initial sync. Prints the times and the ratios,
 * the relay's RSS per idle IDLE connection with BENCH_IMAP_IDLE (default 2,000) connections open,
 * and the CPU cost of computing a message's stored IMAP view at ingest.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { toBase64 } from "../../src/encoding.ts";
import { structureJson } from "../../src/imap/structure.ts";
import { createStore } from "../../src/store/index.ts";
import { verifyPassword } from "../../src/store/password.ts";
import { startMxedge } from "../e2e/harness.ts";
import { dovecotAvailable, startDovecot } from "./dovecot.ts";
import { WireClient } from "./imap-wire.ts";

const run = promisify(execFile);
const N = Number(process.env.BENCH_IMAP_MESSAGES ?? 10_000);
const IDLE = Number(process.env.BENCH_IMAP_IDLE ?? 2_000);
const RUNS = Number(process.env.BENCH_IMAP_RUNS ?? 3);
const USER = "bob@example.test";
const PASSWORD = "bench password 123";
const WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split(" ");

/** A deterministic mix: plain text, multipart/alternative, and a base64 attachment every 10th. */
function message(i: number): Uint8Array {
  const rnd = (n: number) => (i * 7919 + n * 104729) % 1000;
  const lines: string[] = [];
  const count = 20 + (rnd(1) % 80);
  for (let l = 0; l < count; l++) {
    const w = Array.from({ length: 10 }, (_x, k) => WORDS[(i + l * 3 + k * 5) % WORDS.length]);
    // One message in 50 has the searched word in its body.
    if (l === 3 && i % 50 === 7) w[4] = "zebraword";
    lines.push(w.join(" "));
  }
  const body = lines.join("\r\n");
  const head = [
    `From: "Sender ${i % 97}" <sender${i % 97}@example.net>`,
    `To: ${USER}`,
    i % 5 === 0 ? "Cc: Team: a@example.org, b@example.org;" : "Cc: carol@example.org",
    `Subject: Message ${i} about ${WORDS[i % WORDS.length]}`,
    `Date: Mon, ${1 + (i % 28)} Jan 2024 10:${String(i % 60).padStart(2, "0")}:00 +0000`,
    `Message-ID: <bench${i}@example.net>`,
    "MIME-Version: 1.0",
  ];
  let text: string;
  if (i % 10 === 0) {
    const att = toBase64(Uint8Array.from({ length: 6000 }, (_x, k) => (k * 31 + i) & 0xff)).replace(
      /(.{76})/g,
      "$1\r\n",
    );
    text = `${head.join("\r\n")}\r\nContent-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n--b${i}\r\nContent-Type: application/octet-stream; name="f${i}.bin"\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${att}\r\n--b${i}--\r\n`;
  } else if (i % 3 === 0) {
    text = `${head.join("\r\n")}\r\nContent-Type: multipart/alternative; boundary="a${i}"\r\n\r\n--a${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n--a${i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${lines.slice(0, 5).join("<br>")}</p>\r\n--a${i}--\r\n`;
  } else {
    text = `${head.join("\r\n")}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
  }
  return new TextEncoder().encode(text);
}

/** A PHC PBKDF2 hash with few iterations: 2,000 logins must not cost 2,000 × 100,000 rounds. */
async function cheapHash(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: 1000 },
    key,
    256,
  );
  const b64 = (b: Uint8Array) => toBase64(b).replace(/=+$/, "");
  const out = `$pbkdf2-sha256$i=1000$${b64(salt)}$${b64(new Uint8Array(bits))}`;
  if (!(await verifyPassword(password, out))) throw new Error("hash format drifted from password.ts");
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Target {
  name: string;
  port: number;
  user: string;
  password: string;
  certFile: string;
}

async function session(t: Target): Promise<WireClient> {
  const c = await WireClient.open(t.port, { tls: true });
  await c.ok(`LOGIN "${t.user}" "${t.password}"`);
  return c;
}

/** Median wall time of `cmd` over RUNS fresh sessions, 7 × RUNS for SELECT (login and SELECT untimed unless `cmd` is SELECT). */
async function timeCommand(t: Target, cmd: string, check: (r: { lines: Buffer[]; bytes: number }) => void) {
  const times: number[] = [];
  // A SELECT takes about a millisecond: one sample per run would be mostly scheduling noise.
  const runs = cmd.startsWith("SELECT") ? RUNS * 7 : RUNS;
  for (let r = 0; r < runs; r++) {
    const c = await session(t);
    if (!cmd.startsWith("SELECT")) await c.ok("SELECT INBOX");
    const start = performance.now();
    const res = await c.ok(cmd);
    times.push(performance.now() - start);
    check(res);
    c.close();
  }
  return median(times);
}

async function mbsyncTime(t: Target, dir: string): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < Math.min(RUNS, 2); r++) {
    const maildir = join(dir, `${t.name}-maildir-${r}`);
    mkdirSync(maildir, { recursive: true });
    const config = join(dir, `${t.name}-mbsyncrc-${r}`);
    writeFileSync(
      config,
      [
        "IMAPAccount a",
        "Host 127.0.0.1",
        `Port ${t.port}`,
        `User ${t.user}`,
        `Pass "${t.password}"`,
        "SSLType IMAPS",
        `CertificateFile ${t.certFile}`,
        "PipelineDepth 50",
        "",
        "IMAPStore remote",
        "Account a",
        "",
        "MaildirStore local",
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        "",
        "Channel inbox",
        "Far :remote:",
        "Near :local:",
        "Patterns INBOX",
        "Create Near",
        "Sync Pull",
        "SyncState *",
        "",
      ].join("\n"),
    );
    const start = performance.now();
    await run("mbsync", ["-q", "-c", config, "-a"], { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    times.push(performance.now() - start);
    const got = ["cur", "new"].reduce((n, d) => n + readdirSync(join(maildir, "INBOX", d)).length, 0);
    if (got !== N) throw new Error(`${t.name}: mbsync fetched ${got} of ${N}`);
  }
  return median(times);
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

function pidOf(marker: string): number {
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      if (cmd.includes(marker) && cmd.includes("serve")) return Number(p);
    } catch {}
  }
  throw new Error("mxedge process not found");
}

async function main() {
  if (!dovecotAvailable())
    throw new Error("dovecot is not installed (Debian: dovecot-imapd; see .ci/apt.sh)");
  const work = mkdtempSync(join(tmpdir(), "mxedge-bench-imap-"));
  const messages = Array.from({ length: N }, (_x, i) => message(i));
  const totalBytes = messages.reduce((n, m) => n + m.length, 0);
  console.log(`corpus: ${N} messages, ${(totalBytes / 1024 / 1024).toFixed(1)} MiB`);

  // The stored IMAP view's CPU cost per 50 KiB message (what ingest pays once).
  let big = "";
  for (let i = 0; big.length < 50 * 1024; i++) big += new TextDecoder().decode(message(i * 10));
  const fifty = new TextEncoder().encode(
    `Subject: 50k\r\nContent-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\nContent-Type: message/rfc822\r\n\r\n${big}\r\n--z--\r\n`,
  );
  for (let i = 0; i < 200; i++) structureJson(fifty);
  const cpu: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    structureJson(fifty);
    cpu.push(performance.now() - t);
  }
  cpu.sort((a, b) => a - b);
  const structureMs = { median: median(cpu), p99: cpu[Math.floor(cpu.length * 0.99)] as number };

  // mxedge: the store is filled in place before `mxedge serve` opens it (APPEND's code path).
  const dataDir = join(work, "mxedge");
  mkdirSync(dataDir);
  const handle = openSqlite(join(dataDir, "mxedge.db"), { synchronous: "NORMAL" });
  await migrateSqlite(handle);
  const store = createStore(handle.driver);
  await store.directory.addDomain("example.test");
  const bob = await store.directory.addUser(USER, PASSWORD);
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await store.mail.append(bob.id, "INBOX", messages[i] as Uint8Array, i % 4 === 0 ? ["\\Seen"] : [], null);
  }
  console.log(`mxedge store filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const idleUsers = Math.ceil(IDLE / 20);
  const hash = await cheapHash(PASSWORD);
  for (let u = 0; u < idleUsers; u++)
    await store.directory.addUser(`idle${u}@example.test`, "unused password 1");
  handle.database.prepare("UPDATE users SET password_hash = ? WHERE login LIKE 'idle%'").run(hash);
  handle.close();

  // Both servers offer COMPRESS=DEFLATE at level 1 (mxedge's level, relay/imap/compress.ts), and
  // mbsync uses it when offered: without it Dovecot would skip the deflate work mxedge does.
  const dovecot = await startDovecot({ tls: true, maxConnections: 100, compressLevel: 1 });
  dovecot.deliver(messages, (i) => (i % 4 === 0 ? "S" : ""));
  const prof = process.env.BENCH_IMAP_PROFILE_DIR;
  // Every bench connection comes from 127.0.0.1, like clients behind one NAT: raise the per-IP cap.
  const config = join(work, "mxedge.toml");
  writeFileSync(config, `[limits]\nimapMaxConnectionsPerIp = ${IDLE + 100}\n`);
  const mx = await startMxedge({
    dataDir,
    args: ["--config", config],
    env: prof ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${prof}` } : {},
  });
  const targets: Target[] = [
    {
      name: "mxedge",
      port: mx.ports.imaps,
      user: USER,
      password: PASSWORD,
      certFile: join(dataDir, "tls/selfsigned.crt"),
    },
    {
      name: "dovecot",
      port: dovecot.port,
      user: dovecot.user,
      password: dovecot.password,
      certFile: dovecot.certFile as string,
    },
  ];
  const results: Array<{ op: string; ms: Record<string, number> }> = [];
  try {
    // Warm-up: Dovecot builds its index on first SELECT; mxedge's SQLite pages are read once.
    for (const t of targets) {
      const c = await session(t);
      const caps = await c.ok("CAPABILITY");
      must(
        caps.lines.some((l) => l.toString().includes("COMPRESS=DEFLATE")),
        `${t.name} offers COMPRESS=DEFLATE`,
      );
      await c.ok("SELECT INBOX");
      await c.ok("UID FETCH 1:* (UID FLAGS ENVELOPE)");
      c.close();
    }
    const ops: Array<[string, string, (r: { lines: Buffer[]; bytes: number }) => void]> = [
      [
        "SELECT",
        "SELECT INBOX",
        (r) =>
          must(
            r.lines.some((l) => l.toString().includes(`${N} EXISTS`)),
            "EXISTS",
          ),
      ],
      [
        "UID FETCH 1:* (UID FLAGS ENVELOPE)",
        "UID FETCH 1:* (UID FLAGS ENVELOPE)",
        (r) => must(r.lines.length === N, "fetch count"),
      ],
      [
        "fetch every full body",
        "UID FETCH 1:* (BODY.PEEK[])",
        (r) => must(r.bytes > totalBytes, "body bytes"),
      ],
      [
        'SEARCH TEXT "zebraword"',
        'SEARCH TEXT "zebraword"',
        (r) => must(r.lines[0]?.toString().split(" ").length === 2 + Math.ceil((N - 7) / 50), "search hits"),
      ],
    ];
    for (const [op, cmd, check] of ops) {
      const ms: Record<string, number> = {};
      for (const t of targets) ms[t.name] = await timeCommand(t, cmd, check);
      results.push({ op, ms });
    }
    const sync: Record<string, number> = {};
    for (const t of targets) sync[t.name] = await mbsyncTime(t, work);
    results.push({ op: "initial sync with mbsync", ms: sync });

    // Idle IDLE connections: RSS growth of the relay process per connection.
    const pid = pidOf(dataDir);
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssKiB(pid);
    const conns: WireClient[] = [];
    t0 = performance.now();
    for (let i = 0; i < IDLE; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, IDLE - i) }, async (_x, k) => {
          const c = await WireClient.open(mx.ports.imaps, { tls: true });
          await c.ok(`LOGIN "idle${(i + k) % idleUsers}@example.test" "${PASSWORD}"`);
          await c.ok("SELECT INBOX");
          await c.idle();
          return c;
        }),
      );
      conns.push(...batch);
    }
    const openS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const after = rssKiB(pid);
    const perConn = (after - before) / IDLE;
    for (const c of conns) c.close();

    console.log("\n| operation (10,000 messages unless noted) | mxedge | Dovecot | ratio |");
    console.log("|---|---:|---:|---:|");
    for (const r of results) {
      const a = r.ms.mxedge as number;
      const b = r.ms.dovecot as number;
      const ms = (x: number) => x.toFixed(x < 10 ? 1 : 0);
      console.log(`| ${r.op} | ${ms(a)} ms | ${ms(b)} ms | ${(a / b).toFixed(2)}× |`);
    }
    console.log(
      `\nrelay RSS: ${before} KiB before, ${after} KiB with ${IDLE} idle IDLE connections (opened in ${openS.toFixed(1)} s): ${perConn.toFixed(1)} KiB per connection (target < 64)`,
    );
    console.log(
      `stored IMAP view per 50 KiB message (ENVELOPE + BODY + BODYSTRUCTURE + offsets, JSON): median ${(structureMs.median * 1000).toFixed(0)} µs, p99 ${(structureMs.p99 * 1000).toFixed(0)} µs`,
    );
    const worst = Math.max(...results.map((r) => (r.ms.mxedge as number) / (r.ms.dovecot as number)));
    console.log(`worst ratio ${worst.toFixed(2)}× (target ≤ 2×)`);
  } finally {
    await mx.stop();
    await dovecot.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`unexpected answer: ${what}`);
}

await main();
