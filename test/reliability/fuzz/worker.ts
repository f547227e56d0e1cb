/**
 * One fuzz target in a worker thread. Before each execution the input is copied into shared memory with
 * a start time, so the parent can tell a hang (and save the input) even when this thread never returns.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import fc from "fast-check";
import { TARGETS } from "./targets.ts";

interface Data {
  target: string;
  seconds: number;
  corpusDir: string;
  shared: SharedArrayBuffer;
}

const data = workerData as Data;
const target = TARGETS.find((t) => t.name === data.target);
if (!target) throw new Error(`unknown fuzz target ${data.target}`);
// Layout: [0..8) start time (ms, float64), [8..12) input length (int32), [16..) input bytes.
const meta = new Float64Array(data.shared, 0, 1);
const len = new Int32Array(data.shared, 8, 1);
const bytes = new Uint8Array(data.shared, 16);

let executions = 0;
function execute(input: Uint8Array): void {
  const n = Math.min(input.length, bytes.length);
  bytes.set(input.subarray(0, n));
  len[0] = n;
  meta[0] = performance.timeOrigin + performance.now();
  try {
    target?.run(input);
  } finally {
    meta[0] = 0;
  }
  executions++;
  if (executions % 500 === 0) parentPort?.postMessage({ type: "progress", executions });
}

const seeds: Uint8Array[] = [];
for (const f of readdirSync(data.corpusDir).sort())
  seeds.push(new Uint8Array(readFileSync(join(data.corpusDir, f))));
// The corpus first, every run: earlier finds stay fixed.
for (const s of seeds) execute(s);
const replayed = seeds.length;

const outcome = fc.check(
  fc.property(target.arbitrary(seeds), (input) => {
    execute(input);
  }),
  {
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: data.seconds * 1000,
    markInterruptAsFailure: false,
  },
);
if (outcome.failed) {
  // fast-check has shrunk the failing input: report it so the parent saves it into the corpus.
  const input = outcome.counterexample?.[0] ?? new Uint8Array(0);
  parentPort?.postMessage({
    type: "crash",
    executions,
    replayed,
    error: String((outcome.errorInstance as Error | undefined)?.stack ?? outcome.errorInstance ?? "").slice(
      0,
      2000,
    ),
    input,
  });
} else {
  parentPort?.postMessage({ type: "done", executions, replayed, heapUsed: process.memoryUsage().heapUsed });
}
