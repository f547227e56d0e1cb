/**
 * Hostile clients against a real `mxedge serve`, over raw sockets:
 *  - STARTTLS command injection (CVE-2011-0411): plaintext pipelined behind STARTTLS is discarded.
 *  - AUTH is advertised only on a secure session (587 after STARTTLS, 465 at once).
 *  - the open-relay matrix without AUTH: no source-route, %-hack, bang path or literal is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningMxedge } from "./harness.ts";
import { listMessages, startWithUser } from "./smtp-fixtures.ts";
import { openSession, RawSmtp } from "./smtp-raw.ts";

let mx: RunningMxedge;
beforeAll(async () => {
  mx = await startWithUser();
  // A real local user "user", so a %-hack or bang path mis-parsed as local would be accepted.
  const u = await mx.cli(["user", "add", "user@example.test", "--password-stdin"], "another-passw0rd\n");
  expect(u, u.stderr).toMatchObject({ code: 0 });
});
afterAll(async () => {
  await mx?.stop();
});

const settle = () => new Promise((r) => setTimeout(r, 300));

describe("STARTTLS injection (CVE-2011-0411)", () => {
  it("does not run RSET written in the same packet as STARTTLS", async () => {
    const c = await openSession(mx.ports.smtp);
    c.write("STARTTLS\r\nRSET\r\n");
    expect((await c.reply())?.code).toBe(220);
    await settle();
    // No plaintext answer to the injected RSET, before or instead of the TLS handshake.
    expect(c.queued).toBe(0);
    expect(c.pending).toBe("");
    await c.startTls();
    await settle();
    expect(c.queued).toBe(0); // nor a delayed one inside TLS
    const ehlo = await c.command("EHLO client.e2e.test");
    expect(ehlo?.code).toBe(250);
    expect(ehlo?.text).toContain("PIPELINING");
    expect(ehlo?.text).not.toContain("STARTTLS");
    expect((await c.command("NOOP"))?.text).toMatch(/^250 /);
    c.close();
  });

  it("does not carry a MAIL FROM injected behind STARTTLS into the TLS session", async () => {
    const c = await openSession(mx.ports.smtp);
    c.write("STARTTLS\r\nMAIL FROM:<evil@sender.test>\r\n");
    expect((await c.reply())?.code).toBe(220);
    await c.startTls();
    expect((await c.command("EHLO client.e2e.test"))?.code).toBe(250);
    // Had the injected MAIL run, this RCPT would be accepted.
    const rcpt = await c.command("RCPT TO:<someone@example.test>");
    expect(rcpt?.code).toBe(503);
    c.close();
  });
});

describe("AUTH only where it can succeed (RFC 4954 §4)", () => {
  it("587 advertises AUTH after STARTTLS, not before, and still refuses it in plaintext", async () => {
    const c = await RawSmtp.open(mx.ports.submission);
    expect((await c.reply())?.code).toBe(220);
    const plain = await c.command("EHLO client.e2e.test");
    expect(plain?.text).toContain("STARTTLS");
    expect(plain?.text).not.toMatch(/^250[- ]AUTH\b/m);
    expect((await c.command("AUTH PLAIN AHVzZXIAcGFzcw=="))?.code).toBe(538);
    expect((await c.command("STARTTLS"))?.code).toBe(220);
    await c.startTls();
    const secure = await c.command("EHLO client.e2e.test");
    expect(secure?.text).toMatch(/^250[- ]AUTH PLAIN LOGIN$/m);
    c.close();
  });

  it("465 (implicit TLS) advertises AUTH at once", async () => {
    const c = await RawSmtp.openTls(mx.ports.submissions);
    expect((await c.reply())?.code).toBe(220);
    expect((await c.command("EHLO client.e2e.test"))?.text).toMatch(/^250[- ]AUTH PLAIN LOGIN$/m);
    c.close();
  });
});

describe("open-relay matrix without AUTH", () => {
  const cases = [
    "user%other.test@example.test",
    '"user@other.test"@example.test',
    "@example.test:user@other.test",
    "user@[192.0.2.1]",
    "other.test!user@example.test",
    "user@other.test",
  ];

  it.each(cases)("refuses RCPT TO:<%s> and stores nothing", async (rcpt) => {
    const before = (await listMessages(mx)).length;
    const c = await openSession(mx.ports.smtp);
    expect((await c.command("MAIL FROM:<spammer@sender.test>"))?.code).toBe(250);
    const reply = await c.command(`RCPT TO:<${rcpt}>`);
    expect(reply?.code, reply?.text).toBeGreaterThanOrEqual(500);
    const data = await c.command("DATA");
    expect(data?.code, data?.text).not.toBe(354);
    c.close();
    expect((await listMessages(mx)).length).toBe(before);
  });

  it("still accepts the local user itself (the matrix is not refusing everything)", async () => {
    const c = await openSession(mx.ports.smtp);
    expect((await c.command("MAIL FROM:<friend@sender.test>"))?.code).toBe(250);
    expect((await c.command("RCPT TO:<user@example.test>"))?.code).toBe(250);
    c.close();
  });
});
