/**
 * Synchronous webhooks end to end: swaks → mxedge → a real node:http app. The SMTP answer follows the
 * app: 200 → 250 (stored), 406 → 550 with its text, a hang → 451, and the sender's retry of the same
 * message, once the app is back, stores it exactly once.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newWebhookSecret } from "../../src/webhooks/sign.ts";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { swaks } from "./swaks.ts";
import { requireTools } from "./tools.ts";

const enabled = requireTools("swaks");

describe.runIf(enabled)("synchronous webhooks", () => {
  const secret = newWebhookSecret();
  let app: Server;
  let mx: RunningMxedge;
  let mode: "ok" | "reject" | "hang" = "ok";
  const seen: Array<{ verified: boolean; subject: string }> = [];

  beforeAll(async () => {
    app = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let verified = false;
        try {
          new Webhook(secret).verify(body, req.headers as Record<string, string>);
          verified = true;
        } catch {}
        seen.push({ verified, subject: (JSON.parse(body) as { subject: string }).subject });
        if (mode === "hang") return; // never answers: mxedge gives up after timeoutMs
        if (mode === "reject")
          return res
            .writeHead(406, { "content-type": "application/json" })
            .end(JSON.stringify({ reject: "No such ticket" }));
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    const port = (app.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), "mxedge-sync-"));
    writeFileSync(
      join(dir, "mxedge.toml"),
      `webhookAllow = ["127.0.0.0/8"]

[[webhooks]]
name = "gate"
url = "http://127.0.0.1:${port}/inbound"
secret = "${secret}"
mode = "sync"
timeoutMs = 1500
addresses = ["desk@sync.test"]
`,
    );
    mx = await startMxedge({ args: ["--config", join(dir, "mxedge.toml")] });
    expect((await mx.cli(["domain", "add", "sync.test"])).code).toBe(0);
    expect((await mx.cli(["user", "add", "desk@sync.test", "--password-stdin"], "desk-password")).code).toBe(
      0,
    );
  });
  afterAll(async () => {
    await mx?.stop();
    app?.closeAllConnections();
    app?.close();
  });

  const message = (subject: string) =>
    `From: a@sender.test\r\nTo: desk@sync.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W+/g, ".")}@sender.test>\r\n\r\nhello\r\n`;
  const stored = async (subject: string) =>
    (await mx.api<{ messages: Array<{ subject: string }> }>("/api/messages")).body.messages.filter(
      (m) => m.subject === subject,
    ).length;

  it("200 → 250, after the app has the signed payload", async () => {
    mode = "ok";
    const r = await swaks({
      port: mx.ports.smtp,
      from: "a@sender.test",
      to: "desk@sync.test",
      message: message("sync ok"),
    });
    expect(r.code, r.transcript).toBe(250);
    expect(seen.at(-1)).toEqual({ verified: true, subject: "sync ok" });
    expect(await stored("sync ok")).toBe(1);
  });

  it("406 → 550 5.7.1 with the app's text, and nothing stored", async () => {
    mode = "reject";
    const r = await swaks({
      port: mx.ports.smtp,
      from: "a@sender.test",
      to: "desk@sync.test",
      message: message("sync reject"),
    });
    expect(r.code, r.transcript).toBe(550);
    expect(r.line).toMatch(/5\.7\.1 No such ticket$/);
    expect(await stored("sync reject")).toBe(0);
  });

  it("a hanging app → 451; the sender's retry, once the app answers, stores the message exactly once", async () => {
    mode = "hang";
    const first = await swaks({
      port: mx.ports.smtp,
      from: "a@sender.test",
      to: "desk@sync.test",
      message: message("sync retry"),
    });
    expect(first.code, first.transcript).toBe(451);
    expect(await stored("sync retry")).toBe(0);
    mode = "ok";
    const retry = await swaks({
      port: mx.ports.smtp,
      from: "a@sender.test",
      to: "desk@sync.test",
      message: message("sync retry"),
    });
    expect(retry.code, retry.transcript).toBe(250);
    const again = await swaks({
      port: mx.ports.smtp,
      from: "a@sender.test",
      to: "desk@sync.test",
      message: message("sync retry"),
    });
    expect(again.code).toBe(250);
    expect(await stored("sync retry")).toBe(1);
  });
});
