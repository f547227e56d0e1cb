/**
 * Remote mode end to end: the edge in `wrangler dev` (workerd + local D1, migrations applied with
 * wrangler), the relay as a separate `mxedge relay` process. Mail goes through; killing the edge gives
 * 451 and /readyz 503; restarting it, mail flows again without restarting the relay. The start-up checks
 * say which of "unreachable" and "secret refused" failed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, freePort } from "./harness.ts";
import { openSession, RawSmtp } from "./smtp-raw.ts";
import { type RunningRelay, startRelay } from "./smtp-relay-process.ts";
import { applyMigrations, startWranglerDev, type WranglerDev } from "./wrangler-dev.ts";

const SECRET = "remote-relay-secret-0123456789";
const ADMIN = "remote-admin-token-0123456789";
const persist = mkdtempSync(join(tmpdir(), "mxedge-wrangler-"));
let edge: WranglerDev;
let relay: RunningRelay;

async function admin(path: string, body?: unknown): Promise<Response> {
  return fetch(`${edge.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** One message through the relay's MX listener; returns the final reply code (or the first failure). */
async function send(subject: string): Promise<number> {
  const c = await openSession(relay.smtp);
  try {
    const mail = await c.command("MAIL FROM:<sender@remote.test>");
    if (mail?.code !== 250) return mail?.code ?? 0;
    const rcpt = await c.command("RCPT TO:<user@remote-mode.test>");
    if (rcpt?.code !== 250) return rcpt?.code ?? 0;
    const data = await c.command("DATA");
    if (data?.code !== 354) return data?.code ?? 0;
    return (await c.command(`Subject: ${subject}\r\n\r\nthrough wrangler dev\r\n.`, 30_000))?.code ?? 0;
  } finally {
    c.close();
  }
}

async function subjects(): Promise<string[]> {
  const res = await admin("/api/messages?limit=100");
  const body = (await res.json()) as { messages: Array<{ subject: string | null }> };
  return body.messages.map((m) => m.subject ?? "");
}

describe("remote mode against wrangler dev", () => {
  beforeAll(async () => {
    await applyMigrations(persist);
    edge = await startWranglerDev(persist, {
      RELAY_SECRET: SECRET,
      ADMIN_TOKEN: ADMIN,
      MXEDGE_HOSTNAME: "mx.remote-mode.test",
      DNS_ZONE: "; empty zone: every lookup is NXDOMAIN",
    });
    expect((await admin("/api/domains", { name: "remote-mode.test" })).status).toBe(201);
    const user = await admin("/api/users", { address: "user@remote-mode.test", password: "a long password" });
    expect(user.status).toBe(201);
    relay = await startRelay({ edgeUrl: edge.url, secret: SECRET, toml: "[edge]\nhealthIntervalMs = 300\n" });
  });
  afterAll(async () => {
    await relay?.stop();
    await edge?.stop();
    rmSync(persist, { recursive: true, force: true });
  });

  it("delivers, answers 451 while the edge is down, and recovers without a relay restart", async () => {
    expect(relay.output()).toMatch(/edge\s+http:\/\/127\.0\.0\.1:\d+\s+\(reachable, relay secret accepted\)/);
    expect(await send("remote-1")).toBe(250);
    expect(await subjects()).toContain("remote-1");
    expect((await fetch(`http://127.0.0.1:${relay.http}/readyz`)).status).toBe(200);

    await edge.kill();
    expect(await send("remote-down")).toBe(451);
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${relay.http}/readyz`)).status).toBe(503);
    const down = (await (await fetch(`http://127.0.0.1:${relay.http}/readyz`)).json()) as {
      edge: { state: string };
    };
    expect(down.edge.state).toBe("down");
    expect((await fetch(`http://127.0.0.1:${relay.http}/healthz`)).status).toBe(200); // alive, not ready

    await edge.restart();
    expect(await send("remote-2")).toBe(250);
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${relay.http}/readyz`)).status).toBe(200);
    const stored = await subjects();
    expect(stored).toContain("remote-2");
    expect(stored).not.toContain("remote-down");
    expect(relay.output()).toMatch(/"event":"edge\.down"/);
    expect(relay.output()).toMatch(/"event":"edge\.up"/);
  });

  it("start-up: a refused secret stops the relay with a clear line; an unreachable edge does not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mxedge-relay-check-"));
    try {
      const ports = ["--smtp", "--submission", "--submissions", "--imap", "--imaps", "--http"];
      const args = ["relay", "--data", dir, "--host", "127.0.0.1"];
      for (const p of ports) args.push(p, String(await freePort()));
      // `mxedge relay --config FILE`: the edge's URL from the file.
      writeFileSync(join(dir, "relay.toml"), `[edge]\nurl = "${edge.url}"\n`);
      const wrong = await cli([...args, "--config", join(dir, "relay.toml")], {
        env: { MXEDGE_RELAY_SECRET: "not-the-secret" },
      });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(
        /relay secret refused: the edge at http:\/\/127\.0\.0\.1:\d+ answered HTTP 401/,
      );
      // The secret from a file (never a flag).
      writeFileSync(join(dir, "secret"), `${SECRET}\n`);
      const viaFile = await startRelay({
        edgeUrl: edge.url,
        secret: "",
        toml: `[edge]\nsecretFile = "${join(dir, "secret")}"\n`,
      });
      expect(viaFile.output()).toMatch(/reachable, relay secret accepted/);
      await viaFile.stop();
      // The relay stays up; with whenDown = "421" it refuses SMTP at connect while the edge is down.
      const nowhere = await startRelay({
        edgeUrl: `http://127.0.0.1:${await freePort()}`,
        secret: SECRET,
        toml: '[edge]\nwhenDown = "421"\nhealthIntervalMs = 200\n',
      });
      const refused = await RawSmtp.open(nowhere.smtp);
      const greeting = await refused.reply();
      refused.close();
      expect(greeting?.text).toMatch(/^421 4\.3\.0 relay\.e2e\.test Service temporarily unavailable/);
      expect(nowhere.output()).toMatch(
        /edge unreachable: http:\/\/127\.0\.0\.1:\d+ did not answer \(connect ECONNREFUSED/,
      );
      await nowhere.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
