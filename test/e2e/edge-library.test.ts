/**
 * A user's own Worker built on `mxedge/edge` (test/fixtures/user-worker), running in workerd under
 * `wrangler dev` with local D1, behind `mxedge relay --edge URL` as a separate process, driven by swaks.
 * One wrangler dev instance serves every case.
 */
import { afterAll, beforeAll, describe } from "vitest";
import { buildCorpus, DKIM_TOOLS } from "../support/dkim-corpus.ts";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { requireTools } from "./tools.ts";
import { installMxedge, startWranglerDev, type WranglerDev } from "./user-worker.ts";
import { type Api, apiClient, type CaseContext, seed, userWorkerCases } from "./user-worker-cases.ts";

const RELAY_SECRET = "user-worker-relay-secret";
const ADMIN_TOKEN = "user-worker-admin-token";
const have = requireTools("swaks", ...DKIM_TOOLS);

describe.skipIf(!have)("mxedge/edge in a user's Worker (wrangler dev + mxedge relay --edge)", () => {
  let dev: WranglerDev | undefined;
  let relay: RunningMxedge | undefined;
  let api: Api;
  let signed: Uint8Array;

  beforeAll(async () => {
    const corpus = buildCorpus();
    signed = corpus.messages.rsa as Uint8Array;
    await installMxedge();
    dev = await startWranglerDev({ RELAY_SECRET, ADMIN_TOKEN, DNS_ZONE: corpus.zone });
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
});
