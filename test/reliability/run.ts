/**
 * `npm run test:reliability`: the whole system under crashes, network faults, load, a failing webhook
 * receiver, hostile input and fuzzing, with one summary table at the end. Exits 1 when any invariant
 * fails. Not part of `npm test`; `.ci/run` runs it as its own step.
 *
 * Environment:
 *   RELIABILITY_ONLY=crash,remote,...   run only these scenarios (names in STAGES below)
 *   RELIABILITY_FUZZ_SECONDS=20         time box per fuzz target (CI default 20; the 60 s and longer work)
 *   RELIABILITY_SUSTAINED_SECONDS=120   the sustained-ingest phase of the load scenario
 *   RELIABILITY_KILLS=20                SIGKILLs in the crash scenario (the issue asks for at least 20)
 *   RELIABILITY_WEBHOOK_KILLS=0         SIGKILLs during webhook delivery (each adds a ~75 s lease wait)
 *   RELIABILITY_JSON=path               also write the results as JSON
 */
import { writeFileSync } from "node:fs";
import type { ScenarioResult, Totals } from "./lib/stats.ts";
import { crashScenario } from "./scenarios/crash.ts";
import { fuzzScenario } from "./scenarios/fuzz.ts";
import { limitsScenario } from "./scenarios/limits.ts";
import { loadScenario } from "./scenarios/load.ts";
import { multiRelayScenario } from "./scenarios/multi-relay.ts";
import { remoteFaultsScenario } from "./scenarios/remote-faults.ts";
import { webhookScenario } from "./scenarios/webhooks.ts";

const env = process.env;
const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) ? Number(v) : d);

/**
 * Scenarios in stages; the scenarios of one stage run side by side (each has its own processes and
 * ports). Pairs are chosen so neither disturbs the other's measurements: the network-fault run with the
 * webhook run (both mostly wait), the limits run with the fuzzers. Load and the timing-sensitive
 * multi-relay run have the machine to themselves.
 */
const STAGES: Array<Array<[string, () => Promise<ScenarioResult>]>> = [
  [["crash", () => crashScenario({ kills: num(env.RELIABILITY_KILLS, 20) })]],
  [
    ["remote", () => remoteFaultsScenario({ seconds: 15 })],
    // Kills here cost a lease (an attempt in flight is retried only after timeout + 60 s): off in CI.
    ["webhooks", () => webhookScenario({ messages: 100, kills: num(env.RELIABILITY_WEBHOOK_KILLS, 0) })],
  ],
  [["multi", () => multiRelayScenario()]],
  [
    [
      "load",
      () =>
        loadScenario({
          smtpSessions: 1000,
          imapIdle: 5000,
          sustainedSeconds: num(env.RELIABILITY_SUSTAINED_SECONDS, 120),
        }),
    ],
  ],
  [
    ["limits", () => limitsScenario()],
    ["fuzz", () => fuzzScenario({ seconds: num(env.RELIABILITY_FUZZ_SECONDS, 20) })],
  ],
];

const only = env.RELIABILITY_ONLY?.split(",").map((s) => s.trim());
const started = Date.now();
const results: ScenarioResult[] = [];
for (const stage of STAGES) {
  const chosen = stage.filter(([key]) => !only || only.includes(key));
  if (chosen.length === 0) continue;
  console.log(`\n▶ ${chosen.map(([k]) => k).join(" + ")} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const done = await Promise.all(chosen.map(([, run]) => run()));
  for (const r of done) {
    results.push(r);
    console.log(`${r.ok ? "✔" : "✘"} ${r.name}: ${r.seconds.toFixed(1)} s`);
    for (const f of r.failures) console.log(`   FAIL ${f}`);
  }
}

const wall = (Date.now() - started) / 1000;
const rows: Array<[string, string, string]> = [];
// Totals first: the figures the issue asks for, over every scenario that ran.
const sum = (k: keyof Omit<Totals, "p99">) => results.reduce((a, r) => a + (r.totals?.[k] ?? 0), 0);
rows.push(["totals", results.every((r) => r.ok) ? "PASS" : "FAIL", `${wall.toFixed(0)} s`]);
rows.push([
  "  messages accepted / stored / duplicated",
  `${sum("accepted")} / ${sum("stored")} / ${sum("duplicated")}`,
  "",
]);
rows.push(["  kills survived (SIGKILL)", String(sum("kills")), ""]);
rows.push(["  faults injected (network + webhook receiver)", String(sum("faults")), ""]);
rows.push([
  "  peak connections (one server)",
  String(Math.max(0, ...results.map((r) => r.totals?.peakConnections ?? 0))),
  "",
]);
rows.push(["  fuzz executions", String(sum("fuzzExecutions")), ""]);
for (const r of results)
  for (const [k, v] of Object.entries(r.totals?.p99 ?? {}))
    rows.push([`  p99 ${k}`, `${v.toFixed(0)} ms`, ""]);
for (const r of results) {
  rows.push([r.name, r.ok ? "PASS" : "FAIL", `${r.seconds.toFixed(0)} s`]);
  for (const [k, v] of Object.entries(r.figures)) rows.push([`  ${k}`, String(v), ""]);
}
const w0 = Math.max(...rows.map((r) => r[0].length), 8);
const w1 = Math.max(...rows.map((r) => r[1].length), 6);
const line = `+${"-".repeat(w0 + 2)}+${"-".repeat(w1 + 2)}+--------+`;
console.log(`\nReliability summary (${new Date().toISOString()}, wall ${wall.toFixed(0)} s)`);
console.log(line);
console.log(`| ${"scenario / figure".padEnd(w0)} | ${"result".padEnd(w1)} | ${"time".padStart(6)} |`);
for (const [a, b, c] of rows) {
  if (c) console.log(line);
  console.log(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padStart(6)} |`);
}
console.log(line);
if (env.RELIABILITY_JSON) writeFileSync(env.RELIABILITY_JSON, JSON.stringify({ wall, results }, null, 2));
const failed = results.filter((r) => !r.ok);
console.log(
  failed.length === 0 ? "reliability: all passed" : `reliability: ${failed.length} scenario(s) FAILED`,
);
process.exit(failed.length === 0 ? 0 : 1);
