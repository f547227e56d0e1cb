/**
 * The relay's lifecycle on a real `mxedge serve` process:
 *  - SIGTERM during 20 concurrent SMTP transactions: every client gets 250 (and the message is in the
 *    store after a restart) or a 4xx; none of the 250s is missing; the process exits 0.
 *  - SIGHUP with a broken config is refused with a log line and the old listeners keep serving; a valid
 *    one is applied to new sessions while an open session continues.
 *  - /healthz and /readyz on the admin port.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { listMessages, startWithUser, USER } from "./smtp-fixtures.ts";
import { openSession, RawSmtp, type Reply } from "./smtp-raw.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
const running: RunningMxedge[] = [];
afterAll(async () => {
  for (const mx of running) await mx.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** MAIL, RCPT, DATA and the headers plus half a body: the transaction is open, mid-DATA. */
async function openTransaction(port: number, subject: string): Promise<RawSmtp> {
  const c = await openSession(port);
  expect((await c.command("MAIL FROM:<sender@remote.test>"))?.code).toBe(250);
  expect((await c.command(`RCPT TO:<${USER}>`))?.code).toBe(250);
  expect((await c.command("DATA"))?.code).toBe(354);
  c.write(`From: <sender@remote.test>\r\nTo: <${USER}>\r\nSubject: ${subject}\r\n\r\nfirst half\r\n`);
  return c;
}

describe("SIGTERM drains", () => {
  it("20 transactions mid-DATA: each gets 250 (stored) or 4xx, idle sessions 421, exit 0", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mxedge-drain-"));
    dirs.push(dataDir);
    const mx = await startWithUser({ dataDir, toml: "shutdownGraceMs = 2500\n" });
    running.push(mx);
    expect((await fetch(`http://127.0.0.1:${mx.ports.http}/readyz`)).status).toBe(200);

    const clients = await Promise.all(
      Array.from({ length: 20 }, (_, i) => openTransaction(mx.ports.smtp, `drain-${i}`)),
    );
    const idle = await openSession(mx.ports.smtp);
    mx.signal("SIGTERM");
    // The idle session is told at once; the listener takes no new connection.
    expect((await idle.reply(5000))?.code).toBe(421);
    await waitFor("readyz to say draining (or the port to close)", async () => {
      const r = await fetch(`http://127.0.0.1:${mx.ports.http}/readyz`).catch(() => null);
      return r === null || r.status === 503;
    });
    await expect(RawSmtp.open(mx.ports.smtp)).rejects.toThrow();

    // 15 finish within the 2.5 s grace period, 5 only after it.
    const replies: Array<Reply | null> = await Promise.all(
      clients.map(async (c, i) => {
        await sleep(i < 15 ? 80 * i : 4000);
        c.write("second half\r\n.\r\n");
        return c.reply(10_000);
      }),
    );
    const code = await mx.exited;
    expect(code).toBe(0);
    for (const c of clients) c.close();
    idle.close();

    const got = replies.map((r) => r?.code ?? 0);
    for (const c of got) expect(c === 250 || (c >= 400 && c < 500), `reply ${c}`).toBe(true);
    const accepted = got.flatMap((c, i) => (c === 250 ? [`drain-${i}`] : []));
    expect(accepted.length).toBeGreaterThanOrEqual(15);
    expect(got.slice(15).every((c) => c === 421)).toBe(true);

    // Restart on the same data: every 250 is there, nothing that was answered 4xx is.
    const mx2 = await startMxedge({ dataDir });
    running.push(mx2);
    const stored = (await listMessages(mx2)).map((m) => m.subject);
    for (const s of accepted) expect(stored).toContain(s);
    for (let i = 0; i < 20; i++) if (got[i] !== 250) expect(stored).not.toContain(`drain-${i}`);
    expect(stored.filter((s) => s?.startsWith("drain-")).length).toBe(accepted.length);
  });
});

describe("SIGHUP reloads", () => {
  it("refuses a broken config and keeps serving; applies a valid one to new sessions only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mxedge-hup-"));
    dirs.push(dir);
    const file = join(dir, "mxedge.toml");
    writeFileSync(file, "[limits]\nmaxRecipients = 5\n");
    const mx = await startWithUser({ args: ["--config", file] });
    running.push(mx);
    const before = await openSession(mx.ports.smtp);

    writeFileSync(file, "[limits]\nmaxRecipients = 'many'\nnot toml at all ==\n");
    mx.signal("SIGHUP");
    await waitFor("the refusal log line", () => /config\.reload-refused/.test(mx.output()));
    expect(mx.output()).toMatch(/"event":"config\.reload-refused","reason":"config file [^"]+mxedge\.toml/);
    // The old listeners still serve: a new session and a whole message.
    const c = await openSession(mx.ports.smtp);
    expect((await c.command("MAIL FROM:<a@remote.test>"))?.code).toBe(250);
    expect((await c.command(`RCPT TO:<${USER}>`))?.code).toBe(250);
    expect((await c.command(`RCPT TO:<${USER}>`))?.code).toBe(250);
    expect((await c.command("DATA"))?.code).toBe(354);
    expect((await c.command("Subject: after-broken-hup\r\n\r\nstill here\r\n."))?.code).toBe(250);
    c.close();

    writeFileSync(file, "[limits]\nmessagesPerMinutePerIp = 1\n");
    mx.signal("SIGHUP");
    await waitFor("the reload log line", () => /config\.reloaded/.test(mx.output()));
    const fresh = await openSession(mx.ports.smtp);
    expect((await fresh.command("MAIL FROM:<a@remote.test>"))?.code).toBe(250);
    expect((await fresh.command("RSET"))?.code).toBe(250);
    expect((await fresh.command("MAIL FROM:<a@remote.test>"))?.code).toBe(450);
    fresh.close();
    // The session opened before the reload runs on the settings it started with (no rate limit).
    for (let i = 0; i < 3; i++) {
      expect((await before.command("MAIL FROM:<a@remote.test>"))?.code).toBe(250);
      expect((await before.command("RSET"))?.code).toBe(250);
    }
    before.close();
    const health = await fetch(`http://127.0.0.1:${mx.ports.http}/healthz`);
    expect(await health.json()).toEqual({ ok: true, draining: false });
  });
});
