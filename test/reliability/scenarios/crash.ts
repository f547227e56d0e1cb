/**
 * Crash consistency: SMTP senders keep sending to the embedded server while it is killed with SIGKILL
 * at random moments and restarted on the same data directory. Afterwards every message that got a 250
 * is in the store exactly once with an intact body, and SQLite's integrity check passes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger, verifyStore } from "../lib/ledger.ts";
import { freePorts, type MxProcess, provision, spawnMx } from "../lib/procs.ts";
import { codesText, newStats, runSenders } from "../lib/senders.ts";
import { Checker, ms, percentile, type ScenarioResult } from "../lib/stats.ts";

export async function crashScenario(opts: { kills: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const c = new Checker();
  const dataDir = mkdtempSync(join(tmpdir(), "mxedge-rel-crash-"));
  const ports = await freePorts();
  const ledger = new Ledger("crash");
  const stats = newStats();
  let kills = 0;
  let killing = true;
  let mx: MxProcess | null = null;
  const restartMs: number[] = [];
  try {
    mx = await spawnMx({ mode: "serve", dataDir, ports });
    await provision(mx, dataDir);
    // The killer: a random moment 150–1500 ms after each start, SIGKILL, restart in place.
    const killer = (async () => {
      while (kills < opts.kills) {
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 1350));
        await mx?.kill9();
        kills++;
        const r0 = performance.now();
        mx = await spawnMx({ mode: "serve", dataDir, ports });
        restartMs.push(performance.now() - r0);
      }
      killing = false;
    })();
    await runSenders({
      port: () => ports.smtp,
      ledger,
      workers: 12,
      produce: () => killing,
      deadlineMs: 240_000,
      stats,
      timeoutMs: 15_000,
    });
    await killer;
    await mx?.stop();
    const report = verifyStore(dataDir, [ledger]);
    const sent = ledger.sent.size;
    const accepted = ledger.acceptedCount;
    c.check(kills >= opts.kills, `only ${kills} kills`);
    c.check(accepted === sent, `${sent - accepted} messages never accepted (${codesText(stats.codes)})`);
    c.check(report.missing.length === 0, `accepted but missing: ${report.missing.slice(0, 5).join(", ")}`);
    c.check(report.corrupt.length === 0, `corrupt: ${report.corrupt.slice(0, 5).join(", ")}`);
    c.check(report.duplicated === 0, `${report.duplicated} duplicate copies`);
    c.check(report.stored === accepted, `stored ${report.stored} ≠ accepted ${accepted}`);
    c.check(report.integrity === "ok", `integrity_check: ${report.integrity}`);
    c.check(report.foreignKeys === 0, `${report.foreignKeys} foreign key violations`);
    return {
      name: "crash consistency (kill -9)",
      ok: c.failures.length === 0,
      seconds: (Date.now() - t0) / 1000,
      failures: c.failures,
      totals: {
        accepted,
        stored: report.stored,
        duplicated: report.duplicated,
        kills,
        p99: { "restart after kill -9": percentile(restartMs, 99) },
      },
      figures: {
        "messages accepted": accepted,
        "messages stored": report.stored,
        "messages duplicated": report.duplicated,
        "kills survived": kills,
        "SMTP attempts (replies)": `${stats.attempts} (${codesText(stats.codes)})`,
        "restart p99": ms(percentile(restartMs, 99)),
        integrity_check: report.integrity,
      },
    };
  } catch (err) {
    c.failures.push(String(err instanceof Error ? err.stack : err));
    return {
      name: "crash consistency (kill -9)",
      ok: false,
      seconds: (Date.now() - t0) / 1000,
      failures: c.failures,
      figures: {},
    };
  } finally {
    await mx?.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
