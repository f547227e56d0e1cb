/**
 * A user's own Worker built on `mxedge/edge` (test/fixtures/user-worker), running in workerd under
 * `wrangler dev` with local D1, behind `mxedge relay --edge URL` as a separate process, driven by swaks.
 * One wrangler dev instance serves every case.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCorpus, dkimCorpusAvailable } from "../support/dkim-corpus.ts";
import { ROOT, type RunningMxedge, startMxedge } from "./harness.ts";
import {
  installMxedge,
  migratedLocalD1,
  startWranglerDev,
  USER_WORKER,
  type WranglerDev,
} from "./user-worker.ts";
import { type Api, apiClient, type CaseContext, seed, userWorkerCases } from "./user-worker-cases.ts";

const RELAY_SECRET = "user-worker-relay-secret";
const ADMIN_TOKEN = "user-worker-admin-token";
const have = dkimCorpusAvailable("swaks");

describe.skipIf(!have)("mxedge/edge in a user's Worker (wrangler dev + mxedge relay --edge)", () => {
  let dev: WranglerDev | undefined;
  let relay: RunningMxedge | undefined;
  let api: Api;
  let signed: Uint8Array;

  beforeAll(async () => {
    // The build and the D1 migrations run in child processes while the DKIM keys are generated.
    const installed = installMxedge();
    const state = migratedLocalD1();
    const corpus = buildCorpus();
    signed = corpus.messages.rsa as Uint8Array;
    await installed;
    dev = await startWranglerDev(await state, { RELAY_SECRET, ADMIN_TOKEN, DNS_ZONE: corpus.zone });
    api = apiClient(dev.url, ADMIN_TOKEN);
    await seed(api);
    relay = await startMxedge({
      command: "relay",
      args: ["--edge", dev.url],
      env: { MXEDGE_RELAY_SECRET: RELAY_SECRET },
    });
  });

  afterAll(async () => {
    await relay?.stop();
    await dev?.stop();
  });

  userWorkerCases((): CaseContext => ({ smtpPort: relay?.ports.smtp ?? 0, api, signed }));

  it("the cron trigger runs the edge's outbox on D1, then the user's scheduled()", async () => {
    const cron = await fetch(`${dev?.url}/__scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
    expect(cron.status, await cron.text()).toBe(200);
    const state = await api<{ scheduledRuns: number }>("/fixture/mode/ok", { method: "POST" });
    expect(state.body.scheduledRuns).toBe(1);
  });

  it("type-checks as a user project: mxedge/edge's .d.ts from node_modules, @cloudflare/workers-types", async () => {
    // Includes the unchanged Email Worker typed with ForwardableEmailMessage, called with mxedge's message.
    const tsc = join(ROOT, "node_modules/.bin/tsc");
    const r = await promisify(execFile)(tsc, ["-p", join(USER_WORKER, "tsconfig.json")]).catch(
      (e: { stdout: string; code: number }) => e,
    );
    expect(r.stdout).toBe("");
  });

  it("bundles for deployment: wrangler deploy --dry-run of the user Worker (size printed)", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "mxedge-user-bundle-"));
    try {
      const { stdout } = await promisify(execFile)(
        join(ROOT, "node_modules/.bin/wrangler"),
        ["deploy", "--dry-run", "--outdir", outdir],
        {
          cwd: USER_WORKER,
          env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
        },
      );
      const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
      expect(size, stdout).not.toBeNull();
      console.log(`user Worker bundle: ${size?.[1]} KiB, gzip ${size?.[2]} KiB`);
      // Workers paid plan limit: 10 MiB compressed; free plan: 3 MiB compressed.
      expect(Number(size?.[2])).toBeLessThan(3 * 1024);
      expect(existsSync(join(outdir, "worker.js"))).toBe(true);
      // The package was bundled from its built JavaScript (dist/), as a user's node_modules would hold it.
      expect(readFileSync(join(outdir, "worker.js.map"), "utf8")).toContain("dist/edge/library/mxedge.js");
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
