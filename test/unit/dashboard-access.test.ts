/**
 * Scoped access, in-process against the real edge app on SQLite: a domain-scoped token sees and changes
 * only its domain through the admin API (403 for admin-only operations, 404 for anything of another
 * domain, never its data); the admin token keeps its behaviour; the dashboard's session cookie, CSRF
 * token and sign-in rate limit; and a mailbox user sees only their own messages.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../edge/app.ts";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { createStore, type Store } from "../../src/store/index.ts";

const ADMIN = "admin-token-for-tests";
const BASE = "http://edge.test";

function ingest(store: Store, id: string, rcpt: string, mailboxIds: number[], subject: string) {
  return store.messages.ingest({
    id,
    idempotencyKey: `key-${id}`,
    receivedAt: Date.now(),
    envelope: { mailFrom: "sender@remote.test", rcptTo: [rcpt] },
    connection: { helo: "remote.test", user: null },
    raw: new TextEncoder().encode(`Subject: ${subject}\r\n\r\nsecret body of ${subject}\r\n`),
    summary: {
      from: "sender@remote.test",
      to: [rcpt],
      cc: [],
      subject,
      date: null,
      messageId: null,
      inReplyTo: null,
      attachmentCount: 0,
    },
    auth: { spf: { result: "fail" }, dkim: [], dmarc: { result: "fail" }, arc: { result: "none" } },
    mailboxIds,
  });
}

describe("scoped access to the admin API and the dashboard", () => {
  let store: Store;
  let app: ReturnType<typeof createEdgeApp>;
  let token: string;
  let clock = Date.now();
  const call = (path: string, auth: string | null, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (auth) headers.set("authorization", `Bearer ${auth}`);
    if (init.body) headers.set("content-type", "application/json");
    return app.fetch(new Request(`${BASE}${path}`, { ...init, headers }));
  };

  beforeAll(async () => {
    const handle = openSqlite(":memory:");
    await migrateSqlite(handle);
    store = createStore(handle.driver);
    app = createEdgeApp({
      store,
      relaySecret: "relay-secret",
      adminToken: ADMIN,
      now: () => clock,
      dashboard: {
        clientAddress: (c) => c.req.header("x-test-client") ?? null,
        signInLimits: { authFailureDelayMs: 0, maxAuthFailures: 3, authFailureWindowMs: 60_000 },
      },
    });
    for (const d of ["mine.test", "theirs.test"]) await store.directory.addDomain(d);
    const me = await store.directory.addUser("ann@mine.test", "ann password");
    const them = await store.directory.addUser("bob@theirs.test", "bob password");
    const [annInbox] = await store.directory.inboxes([me.id]);
    const [bobInbox] = await store.directory.inboxes([them.id]);
    await ingest(store, "msg-mine", "ann@mine.test", [annInbox as number], "for ann");
    await ingest(store, "msg-theirs", "bob@theirs.test", [bobInbox as number], "for bob");
    const res = await call("/api/tokens", ADMIN, {
      method: "POST",
      body: JSON.stringify({ name: "mine admin", domain: "mine.test" }),
    });
    expect(res.status).toBe(201);
    token = ((await res.json()) as { token: string }).token;
    expect(token).toMatch(/^mxe_/);
  });

  it("keeps the admin token's view of everything", async () => {
    const domains = (await (await call("/api/domains", ADMIN)).json()) as {
      domains: Array<{ name: string }>;
    };
    expect(domains.domains.map((d) => d.name)).toEqual(["mine.test", "theirs.test"]);
    const messages = (await (await call("/api/messages", ADMIN)).json()) as { messages: unknown[] };
    expect(messages.messages).toHaveLength(2);
    expect((await call("/api/domains", "wrong")).status).toBe(401);
    expect((await call("/api/domains", null)).status).toBe(401);
  });

  it("limits a domain token to its domain: lists filtered, others 404, admin-only 403", async () => {
    const domains = (await (await call("/api/domains", token)).json()) as {
      domains: Array<{ name: string }>;
    };
    expect(domains.domains.map((d) => d.name)).toEqual(["mine.test"]);
    const users = (await (await call("/api/users", token)).json()) as { users: Array<{ login: string }> };
    expect(users.users.map((u) => u.login)).toEqual(["ann@mine.test"]);
    const list = (await (await call("/api/messages", token)).json()) as { messages: Array<{ id: string }> };
    expect(list.messages.map((m) => m.id)).toEqual(["msg-mine"]);

    for (const path of [
      "/api/domains/theirs.test",
      "/api/domains/theirs.test/dns",
      "/api/domains/theirs.test/dkim",
      "/api/messages/msg-theirs",
      "/api/messages/msg-theirs/raw",
    ]) {
      const res = await call(path, token);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain("bob");
    }
    expect((await call("/api/domains/mine.test", token)).status).toBe(200);
    expect((await call("/api/messages/msg-mine/raw", token)).status).toBe(200);

    const post = (path: string, body: unknown, method = "POST") =>
      call(path, token, { method, body: JSON.stringify(body) });
    expect((await post("/api/domains", { name: "new.test" })).status).toBe(403);
    expect((await call("/api/domains/mine.test", token, { method: "DELETE" })).status).toBe(403);
    expect((await call("/api/tokens", token)).status).toBe(403);
    expect((await post("/api/users", { address: "eve@theirs.test", password: "long enough" })).status).toBe(
      403,
    );
    expect(
      (await post("/api/aliases", { address: "x@mine.test", targets: ["bob@theirs.test"] })).status,
    ).toBe(403);
    expect(
      (await post("/api/users/bob@theirs.test/password", { password: "changed it" }, "PUT")).status,
    ).toBe(404);
    expect((await call("/api/users/bob@theirs.test", token, { method: "DELETE" })).status).toBe(404);
    expect(await store.directory.authenticate("bob@theirs.test", "bob password")).not.toBeNull();

    expect((await post("/api/users", { address: "cat@mine.test", password: "long enough" })).status).toBe(
      201,
    );
    expect((await post("/api/domains/mine.test", { dmarc: { policy: "reject" } }, "PATCH")).status).toBe(200);
  });

  it("ends a token's access when it is revoked", async () => {
    const made = (await (
      await call("/api/tokens", ADMIN, {
        method: "POST",
        body: JSON.stringify({ name: "short", domain: "mine.test" }),
      })
    ).json()) as { id: number; token: string };
    expect((await call("/api/domains", made.token)).status).toBe(200);
    expect((await call(`/api/tokens/${made.id}`, ADMIN, { method: "DELETE" })).status).toBe(200);
    expect((await call("/api/domains", made.token)).status).toBe(401);
  });

  describe("dashboard sessions", () => {
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const cookieOf = (res: Response, name: string) =>
      /^([^=]+)=([^;]*)/.exec(res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)) ?? "")?.[2] ??
      "";
    const page = (path: string, cookies: string) =>
      app.fetch(new Request(`${BASE}${path}`, { headers: { cookie: cookies } }));
    async function signIn(fields: Record<string, string>, client = "192.0.2.10") {
      const get = await page("/dashboard/sign-in", "");
      const pre = cookieOf(get, "mxedge_signin");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await get.text())?.[1] ?? "";
      return app.fetch(
        new Request(`${BASE}/dashboard/sign-in`, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            cookie: `mxedge_signin=${pre}`,
            origin: BASE,
            "x-test-client": client,
          },
          body: form({ _csrf: csrf, ...fields }),
        }),
      );
    }

    it("signs in with a domain token and shows only that domain, 404 for another", async () => {
      const res = await signIn({ kind: "token", token });
      expect(res.status).toBe(303);
      const setCookie = res.headers.getSetCookie().join("\n");
      expect(setCookie).toMatch(/mxedge_session=[^;]+;.*HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Strict/i);
      expect(setCookie).not.toMatch(/Secure/i); // plain HTTP here; Secure over HTTPS (see the e2e test)
      const session = `mxedge_session=${cookieOf(res, "mxedge_session")}`;
      const own = await page("/dashboard/domains/mine.test", session);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain("DNS records");
      for (const path of [
        "/dashboard/domains/theirs.test",
        "/dashboard/messages/msg-theirs",
        "/dashboard/messages/msg-theirs/raw",
      ]) {
        const other = await page(path, session);
        expect(other.status, path).toBe(404);
        expect(await other.text(), path).not.toContain("secret body of for bob");
      }
      expect((await page("/dashboard/tokens", session)).status).toBe(403);
    });

    it("refuses a form without the session's CSRF token, and a cross-site one", async () => {
      const res = await signIn({ kind: "token", token: ADMIN });
      const session = `mxedge_session=${cookieOf(res, "mxedge_session")}`;
      const post = (fields: Record<string, string>, origin = BASE) =>
        app.fetch(
          new Request(`${BASE}/dashboard/domains`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", cookie: session, origin },
            body: form(fields),
          }),
        );
      expect((await post({ name: "csrf.test" })).status).toBe(403);
      expect((await post({ name: "csrf.test", _csrf: "forged" })).status).toBe(403);
      const overview = await (await page("/dashboard", session)).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(overview)?.[1] ?? "";
      expect((await post({ name: "csrf.test", _csrf: csrf }, "https://evil.example")).status).toBe(403);
      expect((await store.directory.listDomains()).map((d) => d.name)).not.toContain("csrf.test");
      const ok = await post({ name: "csrf.test", _csrf: csrf });
      expect(ok.status).toBe(303);
      expect((await store.directory.listDomains()).map((d) => d.name)).toContain("csrf.test");
    });

    it("rate-limits failed sign-ins per client like SMTP AUTH", async () => {
      const client = "198.51.100.7";
      for (let i = 0; i < 2; i++)
        expect((await signIn({ kind: "token", token: "guess" }, client)).status).toBe(401);
      expect((await signIn({ kind: "token", token: "guess" }, client)).status).toBe(429);
      // Even the right token is refused from that client until the window has passed…
      expect((await signIn({ kind: "token", token: ADMIN }, client)).status).toBe(429);
      // …while another client signs in.
      expect((await signIn({ kind: "token", token: ADMIN }, "198.51.100.8")).status).toBe(303);
      clock += 61_000;
      expect((await signIn({ kind: "token", token: ADMIN }, client)).status).toBe(303);
    });

    it("lets a mailbox user see only their own messages", async () => {
      expect(
        (await signIn({ kind: "user", address: "ann@mine.test", password: "wrong" }, "203.0.113.9")).status,
      ).toBe(401);
      const res = await signIn(
        { kind: "user", address: "ann@mine.test", password: "ann password" },
        "203.0.113.9",
      );
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/dashboard/me");
      const session = `mxedge_session=${cookieOf(res, "mxedge_session")}`;
      const mine = await (await page("/dashboard/me", session)).text();
      expect(mine).toContain("for ann");
      expect(mine).not.toContain("for bob");
      expect((await page("/dashboard/me/msg-mine", session)).status).toBe(200);
      expect((await page("/dashboard/me/msg-theirs", session)).status).toBe(404);
      expect((await page("/dashboard/domains/mine.test", session)).status).toBe(403);
      expect((await page("/dashboard/messages/msg-mine", session)).status).toBe(403);
    });
  });
});
