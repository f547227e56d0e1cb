/**
 * Resource limits as a whole: one client (one IP) attacks a server on every front at once — connection
 * floods, a huge message, endless headers, an endless command line, a silent client, huge IMAP
 * literals, a reader that never reads — and each attempt must meet its documented limit with a clear
 * protocol error, while the server's memory and file descriptors stay bounded and another client's mail
 * still gets through.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapConn } from "../lib/imap.ts";
import { FROM, Ledger } from "../lib/ledger.ts";
import { freePorts, type MxProcess, PASSWORD, provision, sampleRss, spawnMx, USER } from "../lib/procs.ts";
import { SmtpConn, sendOne } from "../lib/smtp.ts";
import { Checker, mib, type ScenarioResult } from "../lib/stats.ts";

const ATTACKER = "127.5.0.1";
const MAX_MESSAGE = 4 * 1024 * 1024;

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Writes `total` bytes of `unit` as fast as the peer takes them; stops when it closes. */
function pump(s: Socket, unit: string, total: number): Promise<void> {
  const chunk = Buffer.from(unit.repeat(Math.max(1, Math.floor(65536 / unit.length))));
  let sent = 0;
  return new Promise((resolve) => {
    const go = () => {
      while (sent < total && !s.destroyed) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once("drain", go);
      }
      resolve();
    };
    s.once("close", () => resolve());
    go();
  });
}

async function smtpAttack(
  port: number,
  prelude: string[],
  flood: { unit: string; bytes: number; finish?: string } | null,
) {
  const c = await SmtpConn.open(port, { localAddress: ATTACKER });
  if (!c) return { code: -1, text: "connect failed" };
  await c.reply();
  for (const line of prelude) {
    const r = await c.cmd(line);
    if (r.code >= 400) return r;
  }
  if (flood) {
    void pump(c.socket, flood.unit, flood.bytes).then(() => {
      if (flood.finish && !c.socket.destroyed) c.socket.write(flood.finish);
    });
  }
  const r = await c.reply(60_000);
  c.socket.destroy();
  return r;
}

/** Connects from `source` and resolves with the first line the server sends (the greeting). */
function firstLine(port: number, source: string, held: Array<{ destroy(): void }>): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: "127.0.0.1", localAddress: source });
    held.push(s);
    let buf = "";
    const timer = setTimeout(() => resolve(`timeout: ${buf}`), 20_000);
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const nl = buf.indexOf("\r\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    s.on("close", () => {
      clearTimeout(timer);
      resolve(buf.split("\r\n")[0] ?? "");
    });
  });
}

export async function limitsScenario(): Promise<ScenarioResult> {
  const t0 = Date.now();
  const c = new Checker();
  const name = "resource limits (one hostile client)";
  const dataDir = mkdtempSync(join(tmpdir(), "mxedge-rel-limits-"));
  let mx: MxProcess | null = null;
  const held: Array<{ destroy(): void }> = [];
  try {
    mx = await spawnMx({
      mode: "serve",
      dataDir,
      ports: await freePorts(),
      toml: `[limits]\nmaxMessageBytes = ${MAX_MESSAGE}\ncommandTimeoutMs = 3000\ndataTimeoutMs = 3000\n`,
    });
    await provision(mx, dataDir);
    const server = mx;
    const p = server.ports;
    // A message to FETCH, for the reader that never reads.
    const big = new Ledger("limits").make(3 * 1024 * 1024);
    c.check((await sendOne(p.smtp, FROM, USER, big.raw)).code === 250, "set-up message refused");
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = server.rssBytes();
    const fdBefore = fdCount(server.pid);
    const rss = sampleRss(() => server.pid, 200);
    let fdPeak = fdBefore;
    const fdTimer = setInterval(() => {
      fdPeak = Math.max(fdPeak, fdCount(server.pid));
    }, 200);
    const results: Record<string, string> = {};

    // The connection flood first: while it holds its 50 slots, this IP gets nothing else.
    // 1. 300 SMTP connections from one IP: the first maxConnectionsPerIp (50) are served.
    {
      const conns = await Promise.all(
        Array.from({ length: 300 }, () => SmtpConn.open(p.smtp, { localAddress: ATTACKER })),
      );
      const banners = await Promise.all(conns.map((x) => x?.reply(20_000) ?? { code: -1, text: "" }));
      for (const x of conns) if (x) held.push(x.socket);
      const ok = banners.filter((b) => b.code === 220).length;
      const refused = banners.filter((b) => /^421 4\.7\.0 .*Too many connections/.test(b.text)).length;
      results["SMTP: 300 connections from one IP"] =
        `${ok} served, ${refused} × 421 4.7.0 too many connections`;
      c.check(ok <= 50 && ok + refused === 300, `SMTP flood: ${ok} served, ${refused} refused`);
      for (const x of conns) x?.socket.destroy();
      await new Promise((r) => setTimeout(r, 1000)); // the server sees the closes and frees the slots
    }
    // The same for IMAP: 300 connections from one IP, the first imapMaxConnectionsPerIp (200) served.
    {
      const greetings = await Promise.all(
        Array.from({ length: 300 }, () => firstLine(p.imap, ATTACKER, held)),
      );
      const ok = greetings.filter((g) => g.startsWith("* OK")).length;
      const refused = greetings.filter((g) => /^\* BYE Too many connections/.test(g)).length;
      results["IMAP: 300 connections from one IP"] = `${ok} served, ${refused} × * BYE Too many connections`;
      c.check(ok === 200 && refused === 100, `IMAP flood: ${ok} served, ${refused} refused`);
      for (const h of held.splice(0)) h.destroy();
      await new Promise((r) => setTimeout(r, 1000));
    }
    const attacks = {
      // 2. A 64 MiB message against a 4 MiB limit.
      huge: smtpAttack(p.smtp, ["EHLO a.test", `MAIL FROM:<${FROM}>`, `RCPT TO:<${USER}>`, "DATA"], {
        unit: `${"x".repeat(998)}\r\n`,
        bytes: 64 * 1024 * 1024,
        finish: ".\r\n", // SMTP answers the size limit at the end of DATA; until then it discards
      }).then((r) => {
        results["SMTP: 64 MiB message (limit 4 MiB)"] = r.text.split("\n")[0] ?? "";
        c.check(r.code === 552, `huge message: ${r.code} ${r.text}`);
      }),
      // 3. Header lines without end: 64 MiB of them, no blank line, then the end of DATA.
      headers: smtpAttack(p.smtp, ["EHLO a.test", `MAIL FROM:<${FROM}>`, `RCPT TO:<${USER}>`, "DATA"], {
        unit: "X-Endless: yes\r\n",
        bytes: 64 * 1024 * 1024,
        finish: ".\r\n",
      }).then((r) => {
        results["SMTP: endless header lines"] = r.text.split("\n")[0] ?? "";
        c.check(r.code === 552, `endless headers: ${r.code} ${r.text}`);
      }),
      // 4. A command line without end.
      line: smtpAttack(p.smtp, ["EHLO a.test"], { unit: "A", bytes: 16 * 1024 * 1024 }).then((r) => {
        results["SMTP: endless command line"] = r.text.split("\n")[0] ?? "";
        c.check(r.code === 421 || r.code === 500, `endless command line: ${r.code} ${r.text}`);
      }),
      // 5. A client that says nothing.
      silent: smtpAttack(p.smtp, ["EHLO a.test"], null).then((r) => {
        results["SMTP: silent client (timeout 3 s)"] = r.text.split("\n")[0] ?? "";
        c.check(r.code === 421, `silent client: ${r.code} ${r.text}`);
      }),
      // 6. IMAP: a synchronising literal of 1 GB is refused before it is sent.
      literal: (async () => {
        const s = await ImapConn.open(p.imap, { localAddress: ATTACKER });
        if (!s) return void c.check(false, "IMAP connect failed");
        held.push(s.socket);
        const r = await s.command("LOGIN {999999999}");
        results["IMAP: LOGIN {999999999}"] = r ?? "closed";
        c.check(r !== null && / (BAD|NO) /.test(r), `huge literal: ${r}`);
        s.socket.destroy();
      })(),
      // 7. IMAP: a non-synchronising literal of 1 GB (LITERAL+), then 64 MiB actually sent.
      literalPlus: (async () => {
        const s = await ImapConn.open(p.imap, { localAddress: ATTACKER });
        if (!s) return void c.check(false, "IMAP connect failed");
        held.push(s.socket);
        s.socket.write("a1 LOGIN {999999999+}\r\n");
        void pump(s.socket, "z", 64 * 1024 * 1024);
        const r = await s.waitFor((l) => /^(a1|\*) (BAD|NO|BYE)/.test(l), 30_000);
        results["IMAP: LOGIN {999999999+} + 64 MiB"] = r ?? (s.closed ? "closed" : "no answer");
        c.check(r !== null, `LITERAL+ flood: ${r}`);
        s.socket.destroy();
      })(),
      // 8. IMAP: a command line without end.
      imapLine: (async () => {
        const s = await ImapConn.open(p.imap, { localAddress: ATTACKER });
        if (!s) return void c.check(false, "IMAP connect failed");
        held.push(s.socket);
        void pump(s.socket, "a", 64 * 1024 * 1024);
        const r = await s.waitFor((l) => / BAD |^\* BYE/.test(l), 30_000);
        results["IMAP: endless command line"] = r ?? (s.closed ? "closed" : "no answer");
        c.check(r !== null && /too long|limit/i.test(r), `IMAP endless line: ${r}`);
        s.socket.destroy();
      })(),
      // 9. IMAP: 100 pipelined FETCH BODY[] of a 3 MiB message (300 MiB of answers), never read.
      slowReader: (async () => {
        const s = await ImapConn.open(p.imaps, { tls: true, localAddress: ATTACKER });
        if (!s) return void c.check(false, "IMAPS connect failed");
        held.push(s.socket);
        c.check((await s.command(`LOGIN ${USER} "${PASSWORD}"`))?.includes(" OK") === true, "LOGIN failed");
        c.check((await s.command("SELECT INBOX"))?.includes(" OK") === true, "SELECT failed");
        s.socket.pause();
        const before = server.rssBytes();
        s.socket.write("f FETCH 1 BODY.PEEK[]\r\n".repeat(100));
        await new Promise((r) => setTimeout(r, 6000));
        const grew = server.rssBytes() - before;
        results["IMAP: 300 MiB of FETCH never read"] = `server RSS +${mib(Math.max(0, grew))}`;
        c.check(grew < 96 * 1024 * 1024, `slow reader: server RSS grew ${mib(grew)}`);
        s.socket.destroy();
      })(),
    };
    // Meanwhile, someone else's mail still gets through.
    const legit = await sendOne(p.smtp, FROM, USER, new Ledger("legit").make(2000).raw);
    results["another client's mail during the attack"] = `${legit.code}`;
    c.check(legit.code === 250, `legit mail during the attack: ${legit.code} ${legit.text}`);
    await Promise.all(Object.values(attacks));
    clearInterval(fdTimer);
    rss.stop();
    for (const h of held) h.destroy();
    c.check(server.alive(), "server died");
    const rssPeak = rss.peak();
    c.check(
      rssPeak - rssBefore < 256 * 1024 * 1024,
      `server RSS grew ${mib(rssPeak - rssBefore)} under attack`,
    );
    c.check(fdPeak - fdBefore < 400, `server fds grew by ${fdPeak - fdBefore}`);
    return {
      name,
      ok: c.failures.length === 0,
      seconds: (Date.now() - t0) / 1000,
      failures: c.failures,
      figures: {
        ...results,
        "server RSS before / peak": `${mib(rssBefore)} / ${mib(rssPeak)}`,
        "server fds before / peak": `${fdBefore} / ${fdPeak}`,
      },
    };
  } catch (err) {
    c.failures.push(String(err instanceof Error ? err.stack : err));
    return { name, ok: false, seconds: (Date.now() - t0) / 1000, failures: c.failures, figures: {} };
  } finally {
    for (const h of held) h.destroy();
    await mx?.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
