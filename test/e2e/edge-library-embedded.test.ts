/**
 * Embedded mode: `mxedge serve --handler FILE` loads the same user Worker module (mxedge({...}), imported
 * from the built package) and runs the same cases; a plain Cloudflare Email Worker module loads unchanged.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCorpus, dkimCorpusAvailable } from "../support/dkim-corpus.ts";
import { cli, ROOT, type RunningMxedge, startMxedge } from "./harness.ts";
import { swaks } from "./swaks.ts";
import { installMxedge, USER_WORKER } from "./user-worker.ts";
import {
  type Api,
  apiClient,
  type CaseContext,
  DOMAIN,
  message,
  queueId,
  seed,
  userWorkerCases,
} from "./user-worker-cases.ts";

const have = dkimCorpusAvailable("swaks");
const CF_SAMPLE = join(ROOT, "test/fixtures/cloudflare-email-worker/worker.ts");

describe.skipIf(!have)("mxedge serve --handler (embedded)", () => {
  let server: RunningMxedge | undefined;
  let sample: RunningMxedge | undefined;
  let api: Api;
  let signed: Uint8Array;

  beforeAll(async () => {
    const corpus = buildCorpus();
    signed = corpus.messages.rsa as Uint8Array;
    const zone = join(mkdtempSync(join(tmpdir(), "mxedge-zone-")), "corpus.zone");
    writeFileSync(zone, corpus.zone);
    await installMxedge();
    server = await startMxedge({
      args: ["--handler", join(USER_WORKER, "worker.ts")],
      env: { MXEDGE_DNS_ZONE: zone },
    });
    api = apiClient(`http://127.0.0.1:${server.ports.http}`, server.adminToken);
    await seed(api);
  });

  afterAll(async () => {
    await server?.stop();
    await sample?.stop();
  });

  it("logs that it loaded the handler", () => {
    expect(server?.output()).toMatch(/"handler\.loaded".*"email":true.*"timeoutMs":1500/);
  });

  userWorkerCases((): CaseContext => ({ smtpPort: server?.ports.smtp ?? 0, api, signed }));

  it("loads a plain Cloudflare Email Worker module (export default { email }) unchanged", async () => {
    sample = await startMxedge({ args: ["--handler", CF_SAMPLE], env: { FORWARD_TO: `bob@${DOMAIN}` } });
    const sampleApi = apiClient(`http://127.0.0.1:${sample.ports.http}`, sample.adminToken);
    await seed(sampleApi);
    const to = `fwd@${DOMAIN}`;
    const ok = await swaks({
      port: sample.ports.smtp,
      from: "carol@sender.test",
      to,
      message: message(to, "hi"),
    });
    expect(ok.code, ok.transcript).toBe(250);
    const raw = await sampleApi<string>(`/api/messages/${queueId(ok.line)}/raw`);
    expect(String(raw.body)).toMatch(/X-Email-Worker: forwarded \d+ bytes from carol@sender\.test\r\n/);
    const detail = await sampleApi<{ copies: Array<{ userId: number }> }>(
      `/api/messages/${queueId(ok.line)}`,
    );
    const users = await sampleApi<{ users: Array<{ id: number; login: string }> }>("/api/users");
    const bob = users.body.users.find((u) => u.login === `bob@${DOMAIN}`)?.id;
    expect(detail.body.copies.map((c) => c.userId)).toEqual([bob]);
  });

  it("loads the same Email Worker module under Deno", async () => {
    const deno = await startMxedge({
      runtime: "deno",
      args: ["--handler", CF_SAMPLE],
      env: { FORWARD_TO: `bob@${DOMAIN}` },
    });
    try {
      const denoApi = apiClient(`http://127.0.0.1:${deno.ports.http}`, deno.adminToken);
      await seed(denoApi);
      const to = `cf@${DOMAIN}`;
      const no = await swaks({
        port: deno.ports.smtp,
        from: "carol@sender.test",
        to,
        message: message(to, "unsubscribe me"),
      });
      expect(no.line).toContain("550 5.7.1 This address does not take list mail");
      const ok = await swaks({
        port: deno.ports.smtp,
        from: "carol@sender.test",
        to,
        message: message(to, "hi"),
      });
      expect(ok.code, ok.transcript).toBe(250);
      const raw = await denoApi<string>(`/api/messages/${queueId(ok.line)}/raw`);
      expect(String(raw.body)).toContain("X-Email-Worker: forwarded");
    } finally {
      await deno.stop();
    }
  });

  it("refuses --handler in relay mode (the handler belongs to the Worker there)", async () => {
    const r = await cli(["relay", "--edge", "http://127.0.0.1:9", "--handler", CF_SAMPLE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--handler runs in embedded mode");
  });
});
