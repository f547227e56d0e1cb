/**
 * The outbox survives a restart: the first attempt fails (500), the embedded server is stopped with the
 * delivery pending, a new process on the same data directory delivers it, exactly once.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newWebhookSecret } from "../../src/webhooks/sign.ts";
import { type RunningMxedge, smtpSend, startMxedge } from "./harness.ts";

describe("webhook outbox across a restart", () => {
  const received: Array<{ id: string; status: number }> = [];
  let status = 500;
  let app: Server;
  let mx: RunningMxedge | null = null;
  const data = mkdtempSync(join(tmpdir(), "mxedge-restart-"));
  afterAll(async () => {
    await mx?.stop();
    app?.close();
    rmSync(data, { recursive: true, force: true });
  });

  it("delivers a pending webhook after the server restarts, once", async () => {
    app = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received.push({ id: String(req.headers["webhook-id"]), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    const port = (app.address() as { port: number }).port;
    const config = join(data, "..", `restart-${process.pid}.toml`);
    writeFileSync(
      config,
      `webhookAllow = ["127.0.0.0/8"]
webhookRetry = { baseDelayMs = 1500, maxDelayMs = 1500 }

[[webhooks]]
name = "app"
url = "http://127.0.0.1:${port}/in"
secret = "${newWebhookSecret()}"
`,
    );
    mx = await startMxedge({ dataDir: data, args: ["--config", config] });
    expect((await mx.cli(["domain", "add", "restart.test"])).code).toBe(0);
    expect((await mx.cli(["user", "add", "rob@restart.test", "--password-stdin"], "rob-password")).code).toBe(
      0,
    );
    expect(
      await smtpSend("plain", mx.ports.smtp, "a@sender.test", "rob@restart.test", "survives restarts"),
    ).toMatchObject({ code: 250 });
    const until = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(1); // the failed first attempt
    await mx.stop();
    mx = null;

    status = 200;
    mx = await startMxedge({ dataDir: data, args: ["--config", config] });
    const until2 = Date.now() + 15_000;
    while (received.length < 2 && Date.now() < until2) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 3000)); // time for a wrong second delivery to show up
    expect(received.map((r) => r.status)).toEqual([500, 200]);
    expect(new Set(received.map((r) => r.id)).size).toBe(1);
    const deliveries = await mx.cli(["deliveries", "--json"]);
    expect(JSON.parse(deliveries.stdout)).toEqual([
      expect.objectContaining({ state: "delivered", attempts: 2 }),
    ]);
  });
});
