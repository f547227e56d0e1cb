/**
 * Session limits (config `limits`, Postfix-like) against a real `mxedge serve` with short limits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningMxedge } from "./harness.ts";
import { listMessages, PASSWORD, startWithUser, USER } from "./smtp-fixtures.ts";
import { openSession, openTlsSession, RawSmtp } from "./smtp-raw.ts";

const TOML = `
[limits]
maxMessageBytes = 65536
commandTimeoutMs = 800
dataTimeoutMs = 1500
maxConnectionsPerIp = 4
maxErrors = 5
authFailureDelayMs = 150
maxAuthFailures = 3
messagesPerMinutePerIp = 40
maxDataLineBytes = 1000
`;

let mx: RunningMxedge;
beforeAll(async () => {
  mx = await startWithUser({ toml: TOML });
});
afterAll(async () => {
  await mx?.stop();
});
const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));
const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString("base64");

describe("limits", () => {
  it("refuses the 1001st recipient (maxRecipients = 1000)", async () => {
    const c = await openSession(mx.ports.smtp);
    let batch = "MAIL FROM:<a@sender.test>\r\n";
    for (let i = 0; i < 1001; i++) batch += `RCPT TO:<someone+${i}@example.test>\r\n`;
    c.write(batch);
    expect((await c.reply())?.code).toBe(250);
    const codes: number[] = [];
    for (let i = 0; i < 1001; i++) codes.push((await c.reply())?.code ?? 0);
    expect(codes.slice(0, 1000).every((x) => x === 250)).toBe(true);
    expect(codes[1000]).toBe(452);
    c.close();
  });

  it("refuses an oversized declared SIZE at MAIL FROM with 552", async () => {
    const c = await openSession(mx.ports.smtp);
    const r = await c.command("MAIL FROM:<a@sender.test> SIZE=100000");
    expect(r?.code).toBe(552);
    c.close();
  });

  it("refuses an oversized body without SIZE with 552 and stores nothing", async () => {
    const before = (await listMessages(mx)).length;
    const c = await openSession(mx.ports.smtp);
    c.write(`MAIL FROM:<a@sender.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`);
    for (const code of [250, 250, 354]) expect((await c.reply())?.code).toBe(code);
    c.write(`Subject: big\r\n\r\n${`${"y".repeat(98)}\r\n`.repeat(800)}.\r\n`);
    expect((await c.reply())?.code).toBe(552);
    c.close();
    expect((await listMessages(mx)).length).toBe(before);
  });

  it("takes a 1000-octet DATA line, refuses a 1001-octet one with 554 5.6.0 and stores nothing", async () => {
    const before = (await listMessages(mx)).length;
    const c = await openSession(mx.ports.smtp);
    const send = async (line: string) => {
      c.write(`MAIL FROM:<a@sender.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`);
      for (const code of [250, 250, 354]) expect((await c.reply())?.code).toBe(code);
      c.write(`Subject: lines\r\n\r\nshort\r\n${line}\r\nafter\r\n.\r\n`);
      return c.reply();
    };
    expect((await send("x".repeat(998)))?.code).toBe(250); // 998 + CRLF = 1000 octets
    const refused = await send("x".repeat(999));
    expect(refused?.code).toBe(554);
    expect(refused?.text).toMatch(/5\.6\.0 .*longer than 1000 octets/);
    expect((await c.command("NOOP"))?.code).toBe(250); // the session goes on
    c.close();
    expect((await listMessages(mx)).length).toBe(before + 1);
  });

  it("closes a 10 KiB command line with 421", async () => {
    const c = await openSession(mx.ports.smtp);
    const r = await c.command(`MAIL FROM:<${"a".repeat(10 * 1024)}@sender.test>`);
    expect(r?.code).toBe(421);
    await settle();
    expect(c.closed).toBe(true);
  });

  it("gives a silent client 421 after the command timeout", async () => {
    const c = await openSession(mx.ports.smtp);
    const started = Date.now();
    const r = await c.reply(5000);
    expect(r?.code).toBe(421);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    c.close();
  });

  it("gives a client that stalls inside DATA 421 after the data timeout, storing nothing", async () => {
    const before = (await listMessages(mx)).length;
    const c = await openSession(mx.ports.smtp);
    c.write(`MAIL FROM:<a@sender.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`);
    for (const code of [250, 250, 354]) expect((await c.reply())?.code).toBe(code);
    c.write("Subject: stalled\r\n\r\nhalf a mess");
    const started = Date.now();
    const r = await c.reply(6000);
    expect(r?.code).toBe(421);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1300);
    c.close();
    expect((await listMessages(mx)).length).toBe(before);
  });

  it("closes the session with 421 after too many errors", async () => {
    const c = await openSession(mx.ports.smtp);
    for (let i = 0; i < 4; i++) expect((await c.command("RCPT TO:<x@example.test>"))?.code).toBe(503);
    expect((await c.command("RCPT TO:<x@example.test>"))?.code).toBe(503);
    expect((await c.reply())?.text).toMatch(/^421 4\.7\.0 /);
    await settle();
    expect(c.closed).toBe(true);
  });

  it("refuses connections beyond maxConnectionsPerIp with 421", async () => {
    await settle(300);
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await openSession(mx.ports.smtp));
    const extra = await RawSmtp.open(mx.ports.smtp);
    expect((await extra.reply())?.text).toMatch(/^421 4\.7\.0 .*Too many connections/);
    for (const c of open) c.close();
    await settle(300);
    const again = await openSession(mx.ports.smtp); // slots are given back
    again.close();
  });

  it("gives slots back after STARTTLS sessions too", async () => {
    for (let i = 0; i < 6; i++) {
      const c = await openTlsSession(mx.ports.smtp);
      expect((await c.command("QUIT"))?.code).toBe(221);
      c.close();
    }
    await settle(300);
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await openSession(mx.ports.smtp));
    for (const c of open) c.close();
  });

  it("throttles AUTH failures with growing delays, then 421 for that IP", async () => {
    await settle(300); // the previous test's sessions give their slots back
    const c = await openTlsSession(mx.ports.submission);
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = Date.now();
      expect((await c.command(`AUTH PLAIN ${plain(USER, "wrong-password")}`))?.code).toBe(535);
      times.push(Date.now() - t);
    }
    expect(times[0]).toBeGreaterThanOrEqual(140);
    expect(times[1]).toBeGreaterThanOrEqual(290);
    expect((await c.command(`AUTH PLAIN ${plain(USER, "wrong-password")}`))?.text).toMatch(/^421 4\.7\.0 /);
    const next = await openTlsSession(mx.ports.submission);
    // Blocked for the window, even with the right password.
    expect((await next.command(`AUTH PLAIN ${plain(USER, PASSWORD)}`))?.code).toBe(421);
    next.close();
    c.close();
  });

  it("limits the per-IP message rate with 450 4.7.1", async () => {
    const c = await openSession(mx.ports.smtp);
    let refused = null;
    for (let i = 0; i < 45 && !refused; i++) {
      const r = await c.command("MAIL FROM:<rate@sender.test>");
      if (r?.code !== 250) refused = r;
      else await c.command("RSET");
    }
    expect(refused?.text).toMatch(/^450 4\.7\.1 /);
    c.close();
  });
});
