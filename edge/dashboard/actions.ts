/**
 * The dashboard's forms: each POST turns its fields into one admin API request (the same operation a
 * curl user calls), then goes back to the page with the API's answer as a notice or an error.
 * A 403 or 404 from the API is answered as such, never as the thing asked for.
 */
import type { Context, Hono } from "hono";
import { toBase64 } from "../../src/encoding.ts";
import type { RuleDecision } from "../../src/rules/engine.ts";
import type { ApiTokenInfo } from "../../src/store/access.ts";
import { ApiRefusal, seg } from "./api.ts";
import { BASE } from "./components.ts";
import { formOf, type Kit } from "./index.ts";
import { rulesPage } from "./pages/rules.ts";
import { tokensPage } from "./pages/tokens.ts";
import { webhooksPage } from "./pages/webhooks.ts";

type Method = "POST" | "PUT" | "PATCH" | "DELETE";

/** `url` with `key=text` added to its query (before any #fragment). */
export function flash(url: string, key: "notice" | "error", text: string): string {
  const [path = "", fragment] = url.split("#", 2);
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}${key}=${encodeURIComponent(text)}${fragment ? `#${fragment}` : ""}`;
}

/** A form's own "back" address, if it is a dashboard page; else `fallback`. */
function backTo(form: Record<string, string>, fallback: string): string {
  const b = form.back ?? "";
  return b.startsWith(`${BASE}/`) && !b.startsWith("//") && !/[\\\s]/.test(b) ? b : fallback;
}

const list = (text: string | undefined) =>
  (text ?? "")
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function registerActions(app: Hono, kit: Kit): void {
  /** Runs one API operation for a form and redirects with its outcome. */
  const perform = async (
    c: Context,
    op: { method: Method; path: string; body?: unknown },
    next: { back: string; done: string | ((body: unknown) => string); to?: string },
  ) => {
    const pc = await kit.pageContext(c);
    const res = await pc.api.send<unknown>(op.method, op.path, op.body);
    if (res.ok) {
      const done = typeof next.done === "function" ? next.done(res.body) : next.done;
      return c.redirect(flash(next.to ?? next.back, "notice", done), 303);
    }
    if (res.status === 403 || res.status === 404) {
      return kit.page(c, () => {
        throw new ApiRefusal(res.status, res.error ?? "refused");
      });
    }
    return c.redirect(flash(next.back, "error", res.error ?? "failed"), 303);
  };
  const form = (c: Context) => formOf(c);
  const p = (c: Context, name: string) => seg(c.req.param(name) ?? "");

  // Domains
  app.post("/domains", async (c) => {
    const f = await form(c);
    const name = (f.name ?? "").trim().toLowerCase();
    return perform(
      c,
      { method: "POST", path: "/domains", body: { name } },
      { back: `${BASE}/domains`, to: `${BASE}/domains/${seg(name)}`, done: `Domain ${name} added.` },
    );
  });
  app.post("/domains/:domain/delete", (c) =>
    perform(
      c,
      { method: "DELETE", path: `/domains/${p(c, "domain")}` },
      { back: `${BASE}/domains/${p(c, "domain")}`, to: `${BASE}/domains`, done: "Domain deleted." },
    ),
  );
  app.post("/domains/:domain/settings", async (c) => {
    const f = await form(c);
    const body = {
      plusAddressing: f.plusAddressing === "on",
      mtaSts: { mode: f.mtaStsMode },
      dmarc: { policy: f.dmarcPolicy, ...(f.dmarcRua ? { rua: f.dmarcRua.trim() } : {}) },
    };
    const back = `${BASE}/domains/${p(c, "domain")}#settings`;
    return perform(
      c,
      { method: "PATCH", path: `/domains/${p(c, "domain")}`, body },
      { back, done: "Settings saved." },
    );
  });
  app.post("/domains/:domain/dkim", async (c) => {
    const f = await form(c);
    const back = `${BASE}/domains/${p(c, "domain")}#dkim`;
    return perform(
      c,
      {
        method: "POST",
        path: `/domains/${p(c, "domain")}/dkim`,
        body: { algorithm: f.algorithm || undefined },
      },
      { back, done: "DKIM key generated: publish its record." },
    );
  });
  app.post("/domains/:domain/dkim/rotate", async (c) => {
    const f = await form(c);
    const back = `${BASE}/domains/${p(c, "domain")}#dkim`;
    return perform(
      c,
      {
        method: "POST",
        path: `/domains/${p(c, "domain")}/dkim/rotate`,
        body: { algorithm: f.algorithm || undefined },
      },
      { back, done: "New DKIM keys made; the old ones are retired (still published until you delete them)." },
    );
  });
  app.post("/domains/:domain/dkim/:selector/delete", (c) =>
    perform(
      c,
      { method: "DELETE", path: `/domains/${p(c, "domain")}/dkim/${p(c, "selector")}` },
      { back: `${BASE}/domains/${p(c, "domain")}#dkim`, done: "DKIM key deleted." },
    ),
  );

  // Users and aliases
  app.post("/users", async (c) => {
    const f = await form(c);
    return perform(
      c,
      {
        method: "POST",
        path: "/users",
        body: { address: (f.address ?? "").trim(), password: f.password ?? "" },
      },
      { back: `${BASE}/users`, done: `User ${(f.address ?? "").trim()} added.` },
    );
  });
  app.post("/users/:login/password", async (c) => {
    const f = await form(c);
    return perform(
      c,
      { method: "PUT", path: `/users/${p(c, "login")}/password`, body: { password: f.password ?? "" } },
      { back: `${BASE}/users`, done: "Password changed." },
    );
  });
  app.post("/users/:login/delete", (c) =>
    perform(
      c,
      { method: "DELETE", path: `/users/${p(c, "login")}` },
      { back: `${BASE}/users`, done: "User deleted." },
    ),
  );
  app.post("/aliases", async (c) => {
    const f = await form(c);
    const targets = f.discard === "on" ? "discard" : list(f.targets);
    return perform(
      c,
      { method: "POST", path: "/aliases", body: { address: (f.address ?? "").trim(), targets } },
      { back: `${BASE}/users#aliases`, done: `Alias ${(f.address ?? "").trim()} added.` },
    );
  });
  app.post("/aliases/:address/delete", (c) =>
    perform(
      c,
      { method: "DELETE", path: `/aliases/${p(c, "address")}` },
      { back: `${BASE}/users#aliases`, done: "Alias deleted." },
    ),
  );

  // Webhooks
  app.post("/webhooks", async (c) => {
    const f = await form(c);
    const secret = f.secret?.trim() || `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
    const domains = list(f.domains);
    const body = {
      name: (f.name ?? "").trim(),
      url: (f.url ?? "").trim(),
      secret,
      format: f.format === "raw" ? "raw" : "json",
      ...(domains.length > 0 ? { domains } : {}),
    };
    const pc = await kit.pageContext(c);
    const res = await pc.api.send("POST", "/webhooks", body);
    if (!res.ok) return c.redirect(flash(`${BASE}/webhooks`, "error", res.error ?? "failed"), 303);
    return kit.page(c, (pc2) => webhooksPage(pc2, { name: body.name, secret }));
  });
  app.post("/webhooks/:name/test", (c) =>
    perform(
      c,
      { method: "POST", path: `/webhooks/${p(c, "name")}/test` },
      {
        back: `${BASE}/webhooks`,
        done: (b) => {
          const r = b as { ok: boolean; status: number | null; error?: string | null; latencyMs?: number };
          return r.ok
            ? `Test delivered: HTTP ${r.status}.`
            : `Test not accepted: ${r.status === null ? (r.error ?? "no answer") : `HTTP ${r.status}`}.`;
        },
      },
    ),
  );
  app.post("/deliveries/:id/redeliver", async (c) => {
    const f = await form(c);
    return perform(
      c,
      { method: "POST", path: `/deliveries/${p(c, "id")}/redeliver` },
      {
        back: backTo(f, `${BASE}/webhooks#deliveries`),
        done: "Queued again: the next attempt runs within seconds.",
      },
    );
  });

  // Tokens
  app.post("/tokens", async (c) => {
    const f = await form(c);
    const pc = await kit.pageContext(c);
    const res = await pc.api.send<ApiTokenInfo & { token: string }>("POST", "/tokens", {
      name: f.name ?? "",
      domain: f.domain ?? "",
    });
    if (!res.ok) return c.redirect(flash(`${BASE}/tokens`, "error", res.error ?? "failed"), 303);
    return kit.page(c, (pc2) => tokensPage(pc2, res.body));
  });
  app.post("/tokens/:id/delete", (c) =>
    perform(
      c,
      { method: "DELETE", path: `/tokens/${p(c, "id")}` },
      { back: `${BASE}/tokens`, done: "Token revoked." },
    ),
  );

  // Rules: a trial run, shown on the rules page.
  app.post("/rules/trial", async (c) => {
    const f = await form(c);
    const { _csrf, ...fields } = f;
    const pc = await kit.pageContext(c);
    const res = await pc.api.send<{ rcpt: RuleDecision; data: RuleDecision }>("POST", "/rules/trial", {
      rcptTo: fields.rcptTo ?? "",
      mailFrom: fields.mailFrom ?? "",
      headerFrom: fields.headerFrom || undefined,
      clientIp: fields.clientIp || undefined,
      spf: fields.spf ?? "",
      dkim: fields.dkim ?? "",
      dmarc: fields.dmarc ?? "",
    });
    if (res.status === 403)
      return kit.page(c, () => Promise.reject(new ApiRefusal(403, res.error ?? "forbidden")));
    return kit.page(
      c,
      (pc2) =>
        rulesPage({ ...pc2, query: fields, error: res.ok ? null : res.error }, res.ok ? res.body : undefined),
      res.ok ? 200 : 400,
    );
  });

  // A mailbox user's own account.
  app.post("/me/password", async (c) => {
    const f = await form(c);
    return perform(
      c,
      { method: "PUT", path: "/me/password", body: { current: f.current ?? "", password: f.password ?? "" } },
      // The session was opened with the old password: sign in again with the new one.
      {
        back: `${BASE}/me/account`,
        to: `${BASE}/sign-in`,
        done: "Password changed: sign in with the new one.",
      },
    );
  });

  // Outbound queue (when the edge has one: see pages/outbound.ts).
  app.post("/outbound/:id/retry", (c) =>
    perform(
      c,
      { method: "POST", path: `/outbound/${p(c, "id")}/retry` },
      { back: `${BASE}/outbound`, done: "Queued for a new attempt now." },
    ),
  );
  app.post("/outbound/:id/delete", (c) =>
    perform(
      c,
      { method: "DELETE", path: `/outbound/${p(c, "id")}` },
      { back: `${BASE}/outbound`, done: "Removed from the queue." },
    ),
  );
}
