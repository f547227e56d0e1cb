/**
 * The dashboard at /dashboard: server-rendered pages (hono/jsx), plain HTML forms, a small script for
 * the chart, and every asset served from here. Pages and forms go through the admin API in-process
 * as the signed-in principal (api.ts), so they show and do exactly what the API allows that principal.
 */
import { type Context, Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { Principal } from "../../src/admin/principal.ts";
import type { AuthThrottleLimits } from "../../src/limits/auth-throttle.ts";
import { timingSafeEqualText } from "../../src/store/password.ts";
import type { EdgeContext } from "../context.ts";
import { registerActions } from "./actions.ts";
import { type Api, ApiRefusal, apiFor } from "./api.ts";
import { CLIENT_JS } from "./assets/client.ts";
import { STYLE_CSS } from "./assets/style.ts";
import { UPLOT_CSS, UPLOT_JS } from "./assets/uplot.ts";
import { BASE, type PageContext } from "./components.ts";
import { h, type Node, renderPage } from "./h.ts";
import { layout, shell } from "./layout.ts";
import { accountPage, myMessagesPage } from "./pages/me.ts";
import { hasOutbound } from "./pages/outbound.ts";
import { signInPage } from "./pages/sign-in.ts";
import { registerPages } from "./pages.ts";
import {
  checkCsrf,
  checkSignInToken,
  closeSession,
  currentSession,
  DEFAULT_SESSION_TTL_MS,
  isSecure,
  openSession,
  type Session,
  signInToken,
} from "./session.ts";
import { DEFAULT_SIGN_IN_LIMITS, SignInThrottle } from "./throttle.ts";

export interface DashboardOptions {
  /**
   * The client's address, for the sign-in rate limit: the socket peer on Node/Deno, CF-Connecting-IP
   * on Workers. Without it every client shares one limit.
   */
  clientAddress?: (c: Context) => string | null | undefined;
  /** The same limits as SMTP AUTH and IMAP LOGIN (config `limits`). */
  signInLimits?: AuthThrottleLimits;
  sessionTtlMs?: number;
  /** The edge is reached over HTTPS (publicUrl), even when this hop is plain HTTP: Secure cookies. */
  publicHttps?: boolean;
}

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A page with only a title and a sentence (refusals before any session is known). */
const plainPage = (title: string, text: string): Node =>
  shell(title, [
    h("main", { id: "main" }, h("h1", null, title), h("p", null, text), h("a", { href: BASE }, "Dashboard")),
  ]);

/** What a signed-in request carries, set by the session middleware. */
const sessions = new WeakMap<Request, { session: Session; form: Record<string, string> }>();

export async function formOf(c: Context): Promise<Record<string, string>> {
  const known = sessions.get(c.req.raw)?.form;
  if (known) return known;
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

export interface Kit {
  ctx: EdgeContext;
  /** The page context for this request (signed in). */
  pageContext(c: Context): Promise<PageContext>;
  /** Renders a page, answering the API's 403/404 as this page's own. */
  page(c: Context, render: (pc: PageContext) => Promise<Node> | Node, status?: 200 | 400): Promise<Response>;
}

export function dashboardRoutes(ctx: EdgeContext, api: Hono, options: DashboardOptions = {}): Hono {
  const app = new Hono();
  const ttlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const secure = (c: Context) => isSecure(c, options.publicHttps ?? false);
  const throttle = new SignInThrottle(options.signInLimits ?? DEFAULT_SIGN_IN_LIMITS, ctx.now);
  const apiOf = (p: Principal): Api => apiFor(api, p);

  app.onError(async (err, c) => {
    // The Origin check's refusal (hono/csrf): a plain 403 page; anything else is the edge's 500.
    if (err instanceof HTTPException && err.status === 403)
      return c.html(await renderPage(plainPage("Forbidden", "This form was sent from another site.")), 403);
    throw err;
  });

  app.use("*", async (c, next) => {
    await next();
    c.header("content-security-policy", CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("x-frame-options", "DENY");
    c.header("referrer-policy", "no-referrer");
    if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
  });
  // Origin (and Sec-Fetch-Site) check on every form POST; the session's CSRF token is checked below.
  app.use("*", csrf());

  const asset = (body: string, type: string) => (c: Context) =>
    c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=3600" });
  app.get("/assets/style.css", asset(STYLE_CSS + UPLOT_CSS, "text/css; charset=utf-8"));
  app.get("/assets/uplot.js", asset(UPLOT_JS, "text/javascript; charset=utf-8"));
  app.get("/assets/dashboard.js", asset(CLIENT_JS, "text/javascript; charset=utf-8"));

  const signIn = async (c: Context, error: string | null, status: 200 | 401 | 403 | 429 = 200) =>
    c.html(
      await renderPage(signInPage(signInToken(c, secure(c)), error, c.req.query("notice") ?? null)),
      status,
    );

  app.get("/sign-in", async (c) => {
    if (await currentSession(c, ctx, secure(c))) return c.redirect(BASE, 303);
    return signIn(c, null);
  });

  app.post("/sign-in", async (c) => {
    const form = await formOf(c);
    if (!checkSignInToken(c, secure(c), form._csrf ?? ""))
      return signIn(c, "The sign-in form had expired. Please try again.", 403);
    const address = options.clientAddress?.(c) ?? "unknown";
    const user = form.kind === "user" ? (form.address ?? "").trim().toLowerCase() : "(token)";
    if (throttle.blocked(user, address)) {
      c.header(
        "retry-after",
        String(Math.ceil((options.signInLimits ?? DEFAULT_SIGN_IN_LIMITS).authFailureWindowMs / 1000)),
      );
      return signIn(c, "Too many failed sign-ins from your address. Try again later.", 429);
    }
    let principal: Principal | null = null;
    if (form.kind === "user") {
      const u = await ctx.store.directory.authenticate(user, form.password ?? "");
      if (u) principal = { kind: "user", userId: u.id, login: u.login };
    } else {
      const token = (form.token ?? "").trim();
      if (token && ctx.adminToken && timingSafeEqualText(token, ctx.adminToken))
        principal = { kind: "admin" };
      else if (token) {
        const t = await ctx.store.access.verifyToken(token, ctx.now());
        if (t) principal = { kind: "domain", domain: t.domain, tokenId: t.id };
      }
    }
    if (!principal) {
      const blocked = await throttle.fail(user, address);
      const what = form.kind === "user" ? "Wrong address or password." : "That token is not valid.";
      return blocked
        ? signIn(c, "Too many failed sign-ins from your address. Try again later.", 429)
        : signIn(c, what, 401);
    }
    await openSession(c, ctx, principal, { secure: secure(c), ttlMs });
    return c.redirect(principal.kind === "user" ? `${BASE}/me` : BASE, 303);
  });

  // Everything below needs a session; every POST also needs the session's CSRF token.
  app.use("*", async (c, next) => {
    const session = await currentSession(c, ctx, secure(c));
    if (!session) {
      if (c.req.method === "GET") return c.redirect(`${BASE}/sign-in`, 303);
      return signIn(c, "Your session has ended. Please sign in again.", 401);
    }
    let form: Record<string, string> = {};
    if (c.req.method === "POST") {
      form = await formOf(c);
      if (!checkCsrf(session, form._csrf ?? ""))
        return c.html(
          await renderPage(h("p", null, "This form is out of date: reload the page and try again.")),
          403,
        );
    }
    sessions.set(c.req.raw, { session, form });
    return next();
  });

  app.post("/sign-out", async (c) => {
    await closeSession(c, ctx, secure(c));
    return c.redirect(`${BASE}/sign-in?notice=${encodeURIComponent("Signed out.")}`, 303);
  });

  const kit: Kit = {
    ctx,
    async pageContext(c) {
      const state = sessions.get(c.req.raw);
      if (!state) throw new Error("dashboard page reached without a session");
      const { principal, csrf: token } = state.session;
      const api = apiOf(principal);
      const query = c.req.query();
      return {
        principal,
        csrf: token,
        path: new URL(c.req.url).pathname,
        notice: query.notice ?? null,
        error: query.error ?? null,
        api,
        now: ctx.now(),
        features: { outbound: principal.kind !== "user" && (await hasOutbound({ api })) },
        query,
      };
    },
    async page(c, render, status = 200) {
      const pc = await kit.pageContext(c);
      try {
        return c.html(await renderPage(await render(pc)), status);
      } catch (err) {
        if (!(err instanceof ApiRefusal)) throw err;
        const code = err.status === 403 ? 403 : err.status === 404 ? 404 : 400;
        const title = code === 403 ? "Not allowed" : code === 404 ? "Not found" : "Something is wrong";
        return c.html(await renderPage(layout(pc, title, [h("p", null, err.message)])), code);
      }
    },
  };

  // A mailbox user has their own pages; the rest are for administrators.
  app.get("/me", (c) => kit.page(c, myMessagesPage));
  app.get("/me/account", (c) => kit.page(c, accountPage));
  registerPages(app, kit);
  registerActions(app, kit);
  return app;
}
