/**
 * Remote mode under network faults: `mxedge relay --edge URL` and the edge (`mxedge serve`'s HTTP API)
 * are separate processes with a fault-injecting TCP proxy between them. Same invariants as the crash
 * run: every 250'd message stored once and intact, the database consistent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Fault, startFaultProxy } from "../lib/fault-proxy.ts";
import { Ledger, verifyStore } from "../lib/ledger.ts";
import { freePorts, type MxProcess, provision, secretsOf, spawnMx } from "../lib/procs.ts";
import { codesText, newStats, runSenders } from "../lib/senders.ts";
import { Checker, ms, percentile, type ScenarioResult } from "../lib/stats.ts";

export async function remoteFaultsScenario(opts: { seconds: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const c = new Checker();
  const name = "edge faults (remote mode)";
  const edgeDir = mkdtempSync(join(tmpdir(), "mxedge-rel-edge-"));
  const relayDir = mkdtempSync(join(tmpdir(), "mxedge-rel-relay-"));
  let edge: MxProcess | null = null;
  let relay: MxProcess | null = null;
  let proxy: Awaited<ReturnType<typeof startFaultProxy>> | null = null;
  try {
    edge = await spawnMx({ mode: "serve", dataDir: edgeDir, ports: await freePorts() });
    await provision(edge, edgeDir);
    proxy = await startFaultProxy(edge.ports.http, { rate: 0.04, stallMs: 3500 });
    relay = await spawnMx({
      mode: "relay",
      dataDir: relayDir,
      ports: await freePorts(),
      hostname: "relay.reliability.test",
      edgeUrl: `http://127.0.0.1:${proxy.port}`,
      env: { MXEDGE_RELAY_SECRET: secretsOf(edgeDir).relaySecret },
      toml: "[edge]\ntimeoutMs = 2500\n",
    });
    const ledger = new Ledger("remote");
    const stats = newStats();
    const until = Date.now() + opts.seconds * 1000;
    const relayPort = relay.ports.smtp;
    await runSenders({
      port: () => relayPort,
      ledger,
      workers: 8,
      produce: () => {
        if (Date.now() < until) return true;
        // The network heals: the retry queue drains without new faults, as after a real outage.
        if (proxy) proxy.rate = 0;
        return false;
      },
      deadlineMs: opts.seconds * 1000 + 90_000,
      stats,
      timeoutMs: 15_000,
      makeSize: () => (Math.random() < 0.1 ? 200_000 + Math.floor(Math.random() * 700_000) : undefined),
    });
    const faultsBeforeDrain = [...proxy.injected.values()].reduce((a, b) => a + b, 0);
    c.check(relay.alive(), "relay process died");
    c.check(edge.alive(), "edge process died");
    await relay.stop();
    await edge.stop();
    const report = verifyStore(edgeDir, [ledger]);
    const accepted = ledger.acceptedCount;
    c.check(
      accepted === ledger.sent.size,
      `${ledger.sent.size - accepted} never accepted (${codesText(stats.codes)})`,
    );
    c.check(report.missing.length === 0, `accepted but missing: ${report.missing.slice(0, 5).join(", ")}`);
    c.check(report.corrupt.length === 0, `corrupt: ${report.corrupt.slice(0, 5).join(", ")}`);
    c.check(report.duplicated === 0, `${report.duplicated} duplicate copies`);
    c.check(report.stored === accepted, `stored ${report.stored} ≠ accepted ${accepted}`);
    c.check(report.integrity === "ok", `integrity_check: ${report.integrity}`);
    c.check(faultsBeforeDrain >= 20, `only ${faultsBeforeDrain} faults injected`);
    const f = (k: Fault) => proxy?.injected.get(k) ?? 0;
    return {
      name,
      ok: c.failures.length === 0,
      seconds: (Date.now() - t0) / 1000,
      failures: c.failures,
      totals: {
        accepted,
        stored: report.stored,
        duplicated: report.duplicated,
        faults: faultsBeforeDrain,
        p99: { "end of DATA, remote mode under faults": percentile(stats.latencies, 99) },
      },
      figures: {
        "messages accepted": accepted,
        "messages stored": report.stored,
        "messages duplicated": report.duplicated,
        "faults injected": `${faultsBeforeDrain} (latency ${f("latency")}, reset ${f("reset")}, stall ${f("stall")}, half-close ${f("half-close")}) on ${proxy.connections} edge connections`,
        "SMTP replies": codesText(stats.codes),
        "end-of-DATA p99 (250s)": ms(percentile(stats.latencies, 99)),
        integrity_check: report.integrity,
      },
    };
  } catch (err) {
    c.failures.push(String(err instanceof Error ? err.stack : err));
    return { name, ok: false, seconds: (Date.now() - t0) / 1000, failures: c.failures, figures: {} };
  } finally {
    await relay?.kill9();
    await edge?.kill9();
    await proxy?.close();
    rmSync(edgeDir, { recursive: true, force: true });
    rmSync(relayDir, { recursive: true, force: true });
  }
}
