/**
 * What the sample user Worker (test/fixtures/user-worker/worker.ts) must do, driven by swaks through a
 * relay. The same cases run against the Worker in workerd and against `mxedge serve --handler`.
 */
import { expect, it } from "vitest";
import { swaks } from "./swaks.ts";

export const DOMAIN = "example.test";
export const USERS = ["reject", "fwd", "remote", "dkim", "flaky", "cf", "bob"];
const PASSWORD = "password-123";

export type Api = <T>(path: string, init?: RequestInit) => Promise<{ status: number; body: T }>;

export function apiClient(base: string, token: string): Api {
  return async <T>(path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    if (init.body) headers.set("content-type", "application/json");
    const res = await fetch(`${base}${path}`, { ...init, headers });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body: body as T };
  };
}

/** The domain and users through the admin API (the same on the Worker and embedded). */
export async function seed(api: Api): Promise<void> {
  const d = await api("/api/domains", { method: "POST", body: JSON.stringify({ name: DOMAIN }) });
  expect(d.status).toBe(201);
  for (const u of USERS) {
    const r = await api("/api/users", {
      method: "POST",
      body: JSON.stringify({ address: `${u}@${DOMAIN}`, password: PASSWORD }),
    });
    expect(r.status).toBe(201);
  }
}

let n = 0;
export function message(to: string, subject: string, extraHeaders = ""): string {
  n++;
  return (
    `From: Carol <carol@sender.test>\r\nTo: ${to}\r\nSubject: ${subject}\r\n` +
    `Date: Mon, 23 Nov 2026 12:00:00 +0000\r\nMessage-ID: <case-${n}-${Date.now()}@sender.test>\r\n` +
    `${extraHeaders}\r\nHello from the test.\r\n`
  );
}

interface Detail {
  id: string;
  copies: Array<{ mailbox: string; uid: number; userId: number }>;
}

export interface CaseContext {
  smtpPort: number;
  api: Api;
  /** The dkimpy-signed message (signed.test, RSA) and its envelope sender. */
  signed: Uint8Array;
}

export function queueId(line: string): string {
  const id = /queued as (\S+)/.exec(line)?.[1];
  if (!id) throw new Error(`no queue id in ${JSON.stringify(line)}`);
  return id;
}

async function userId(api: Api, login: string): Promise<number> {
  const r = await api<{ users: Array<{ id: number; login: string }> }>("/api/users");
  const u = r.body.users.find((x) => x.login === login);
  if (!u) throw new Error(`no user ${login}`);
  return u.id;
}

async function stored(api: Api, id: string): Promise<{ detail: Detail; raw: string }> {
  const detail = await api<Detail>(`/api/messages/${id}`);
  expect(detail.status).toBe(200);
  const raw = await api<string>(`/api/messages/${id}/raw`);
  return { detail: detail.body, raw: String(raw.body) };
}

async function countFor(api: Api, rcpt: string): Promise<number> {
  const r = await api<{ messages: Array<{ rcptTo: string[] }> }>("/api/messages?limit=500");
  return r.body.messages.filter((m) => m.rcptTo.includes(rcpt)).length;
}

export function userWorkerCases(ctx: () => CaseContext): void {
  const send = (to: string, data: string | Uint8Array, from = "carol@sender.test") =>
    swaks({ port: ctx().smtpPort, from, to, message: data });

  it("setReject(reason) answers 550 5.7.1 with the reason, and stores nothing", async () => {
    const to = `reject@${DOMAIN}`;
    const r = await send(to, message(to, "please reject", "X-Reason: because\r\n"));
    expect(r.code, r.transcript).toBe(550);
    expect(r.line).toContain("5.7.1 No mail for reject (handler says because)");
    expect(await countFor(ctx().api, to)).toBe(0);
  });

  it("forward() to a local address stores the message in that user's INBOX only, with the headers", async () => {
    const to = `fwd@${DOMAIN}`;
    const r = await send(to, message(to, "forward me"));
    expect(r.code, r.transcript).toBe(250);
    const { detail, raw } = await stored(ctx().api, queueId(r.line));
    const bob = await userId(ctx().api, `bob@${DOMAIN}`);
    expect(detail.copies.map((c) => [c.userId, c.mailbox])).toEqual([[bob, "INBOX"]]);
    expect(raw).toContain("X-Forwarded-By: user-worker\r\n");
    expect(raw).toContain("X-Fixture-Rule: yes\r\n"); // rules from mxedge({ rules }) ran before the handler
  });

  it("forward() to a remote address throws OutboundDeliveryUnavailableError, which the handler can catch", async () => {
    const to = `remote@${DOMAIN}`;
    const r = await send(to, message(to, "remote forward"));
    expect(r.code, r.transcript).toBe(250);
    const { detail, raw } = await stored(ctx().api, queueId(r.line));
    expect(raw).toContain("X-Forward-Error: outbound-delivery-unavailable\r\n");
    // The handler placed no copy, so the default delivery applies.
    expect(detail.copies.map((c) => [c.userId, c.mailbox])).toEqual([[await userId(ctx().api, to), "INBOX"]]);
  });

  it("message.auth.dkim, .dmarc, .connection and .parsed() reach the handler for a dkimpy-signed message", async () => {
    const to = `dkim@${DOMAIN}`;
    const r = await send(to, ctx().signed, "alice@signed.test");
    expect(r.code, r.transcript).toBe(250);
    const { detail, raw } = await stored(ctx().api, queueId(r.line));
    expect(raw).toContain("X-Seen-Dkim: pass:signed.test\r\n");
    expect(raw).toContain("X-Seen-Dmarc: pass\r\n");
    expect(raw).toContain("X-Seen-Client: 127.0.0.1 mail.sender.test\r\n");
    expect(raw).toContain("X-Seen-Subject: rsa pass\r\n");
    expect(detail.copies.map((c) => c.mailbox)).toEqual(["Junk"]); // message.deliver("Junk")
  });

  it("an unchanged Cloudflare Email Worker runs: reads raw, forwards with headers, rejects", async () => {
    const to = `cf@${DOMAIN}`;
    const ok = await send(to, message(to, "hello worker"));
    expect(ok.code, ok.transcript).toBe(250);
    const { detail, raw } = await stored(ctx().api, queueId(ok.line));
    expect(detail.copies.map((c) => c.userId)).toEqual([await userId(ctx().api, `bob@${DOMAIN}`)]);
    expect(raw).toMatch(/X-Email-Worker: forwarded \d+ bytes from carol@sender\.test\r\n/);
    const no = await send(to, message(to, "Please unsubscribe me"));
    expect(no.code, no.transcript).toBe(550);
    expect(no.line).toContain("5.7.1 This address does not take list mail");
  });

  it("a throwing and a hanging handler answer 451 4.3.0 and store nothing; the retry after the fix stores once", async () => {
    const { api } = ctx();
    const to = `flaky@${DOMAIN}`;
    const data = message(to, "flaky handler");
    const mode = async (m: string) =>
      expect((await api(`/fixture/mode/${m}`, { method: "POST" })).status).toBe(200);

    await mode("throw");
    const thrown = await send(to, data);
    expect(thrown.code, thrown.transcript).toBe(451);
    expect(thrown.line).toContain("4.3.0");
    expect(await countFor(api, to)).toBe(0);

    await mode("hang");
    const started = Date.now();
    const hung = await send(to, data);
    expect(hung.code, hung.transcript).toBe(451);
    expect(hung.line).toContain("4.3.0");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400); // the fixture's 1.5 s budget, not the relay's
    expect(await countFor(api, to)).toBe(0);

    await mode("ok");
    const fixed = await send(to, data);
    expect(fixed.code, fixed.transcript).toBe(250);
    const again = await send(to, data); // the sender's retry after a lost 250
    expect(again.code, again.transcript).toBe(250);
    expect(queueId(again.line)).toBe(queueId(fixed.line));
    expect(await countFor(api, to)).toBe(1);
    const { raw } = await stored(api, queueId(fixed.line));
    expect(raw).toMatch(/X-Flaky-Run: \d+\r\n/);
  });
}
