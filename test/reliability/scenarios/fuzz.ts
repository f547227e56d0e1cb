/**
 * Fuzzing, time-boxed per target: the PROXY parser, the IMAP command parser and the MIME structure
 * builder in worker threads (memory-capped, watched for hangs), and the SMTP command path over sockets
 * against a real server. All four run side by side for the same time box. The corpus in
 * test/reliability/corpus/<target>/ is replayed first every run; a failing input is written there.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { loadSeeds, smtpExecute, smtpInputs } from "../fuzz/smtp.ts";
import { freePorts, provision, sampleRss, spawnMx } from "../lib/procs.ts";
import { Checker, mib, type ScenarioResult } from "../lib/stats.ts";

const CORPUS = fileURLToPath(new URL("../corpus/", import.meta.url));
const WORKER = fileURLToPath(new URL("../fuzz/worker.ts", import.meta.url));
const PER_INPUT_MS = 3000;

function saveFinding(target: string, kind: string, input: Uint8Array): string {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  const name = `${kind}-${createHash("sha256").update(input).digest("hex").slice(0, 12)}.bin`;
  writeFileSync(join(dir, name), input);
  return join("test/reliability/corpus", target, name);
}

interface TargetResult {
  target: string;
  executions: number;
  replayed: number;
  failure: string | null;
}

function runWorker(target: string, seconds: number): Promise<TargetResult> {
  const shared = new SharedArrayBuffer(16 + 1024 * 1024);
  const meta = new Float64Array(shared, 0, 1);
  const len = new Int32Array(shared, 8, 1);
  const bytes = new Uint8Array(shared, 16);
  const worker = new Worker(WORKER, {
    workerData: { target, seconds, corpusDir: join(CORPUS, target), shared },
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
  });
  let executions = 0;
  const lastInput = () => new Uint8Array(bytes.subarray(0, len[0] ?? 0));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: TargetResult) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      void worker.terminate();
      resolve(r);
    };
    const watchdog = setInterval(() => {
      const started = meta[0] ?? 0;
      if (started > 0 && performance.timeOrigin + performance.now() - started > PER_INPUT_MS) {
        const file = saveFinding(target, "hang", lastInput());
        finish({ target, executions, replayed: 0, failure: `input ran over ${PER_INPUT_MS} ms: ${file}` });
      }
    }, 100);
    worker.on(
      "message",
      (m: { type: string; executions: number; replayed?: number; error?: string; input?: Uint8Array }) => {
        executions = m.executions;
        if (m.type === "done") finish({ target, executions, replayed: m.replayed ?? 0, failure: null });
        if (m.type === "crash") {
          const file = saveFinding(target, "crash", m.input ?? lastInput());
          finish({ target, executions, replayed: m.replayed ?? 0, failure: `${m.error} (input: ${file})` });
        }
      },
    );
    worker.on("error", (err) => {
      const file = saveFinding(target, "error", lastInput());
      finish({ target, executions, replayed: 0, failure: `${(err as Error).message} (last input: ${file})` });
    });
    worker.on("exit", (code) =>
      finish({
        target,
        executions,
        replayed: 0,
        failure: code === 0 ? "worker exited early" : `worker exit ${code}`,
      }),
    );
  });
}

async function runSmtp(seconds: number, ready: () => void): Promise<TargetResult & { peakRss: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "mxedge-rel-fuzz-"));
  const target = "smtp";
  const mx = await spawnMx({
    mode: "serve",
    dataDir,
    ports: await freePorts(),
    // A dead edge call or a stuck DATA must end within the per-input limit; the rest stays default.
    toml: "[limits]\ncommandTimeoutMs = 2000\ndataTimeoutMs = 2000\nauthFailureDelayMs = 0\nmaxErrors = 100\n",
  });
  await provision(mx, dataDir);
  const rss = sampleRss(() => mx.pid, 500);
  const seeds = loadSeeds(join(CORPUS, target));
  let executions = 0;
  let failure: string | null = null;
  const limit = PER_INPUT_MS + 2500; // the server's own 2 s timeouts plus scheduling slack
  try {
    for (const s of seeds) {
      const r = await smtpExecute(mx.ports.smtp, s, limit);
      executions++;
      if (r !== "closed") failure ??= `corpus input: ${r}`;
    }
    const replayed = seeds.length;
    ready();
    const until = Date.now() + seconds * 1000;
    const inputs = smtpInputs(seeds);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until && failure === null) {
          const input = inputs.next().value as Uint8Array;
          const r = await smtpExecute(mx.ports.smtp, input, limit);
          executions++;
          if (r !== "closed") failure = `${r} (input: ${saveFinding(target, r, input)})`;
          if (!mx.alive())
            failure = `server died (input: ${saveFinding(target, "crash", input)})\n${mx.output().slice(-2000)}`;
        }
      }),
    );
    rss.stop();
    if (mx.rssBytes() > 512 * 1024 * 1024) failure ??= `server RSS ${mib(mx.rssBytes())} after fuzzing`;
    return { target, executions, replayed, failure, peakRss: rss.peak() };
  } finally {
    rss.stop();
    await mx.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function fuzzScenario(opts: { seconds: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const c = new Checker();
  const name = `fuzzing (${opts.seconds} s per target, side by side)`;
  try {
    // The in-process targets start once the SMTP target's server is up, so all four share the box.
    let ready = () => {};
    const smtpReady = new Promise<void>((r) => {
      ready = r;
    });
    const smtpRun = runSmtp(opts.seconds, ready);
    await Promise.race([smtpReady, smtpRun]);
    const [smtp, ...rest] = await Promise.all([
      smtpRun,
      runWorker("proxy", opts.seconds),
      runWorker("imap", opts.seconds),
      runWorker("mime", opts.seconds),
    ]);
    const all = [...rest, smtp];
    for (const r of all) c.check(r.failure === null, `${r.target}: ${r.failure}`);
    for (const r of all) c.check(r.executions > r.replayed, `${r.target}: no executions beyond the corpus`);
    const total = all.reduce((a, r) => a + r.executions, 0);
    return {
      name,
      ok: c.failures.length === 0,
      seconds: (Date.now() - t0) / 1000,
      failures: c.failures,
      totals: { fuzzExecutions: total },
      figures: {
        "fuzz executions": `${total} (${all.map((r) => `${r.target} ${r.executions}`).join(", ")})`,
        "corpus replayed": all.map((r) => `${r.target} ${r.replayed}`).join(", "),
        "SMTP fuzz server RSS peak": mib(smtp.peakRss),
      },
    };
  } catch (err) {
    c.failures.push(String(err instanceof Error ? err.stack : err));
    return { name, ok: false, seconds: (Date.now() - t0) / 1000, failures: c.failures, figures: {} };
  }
}
