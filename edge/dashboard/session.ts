/**
 * Dashboard sessions: a sign-in (admin token, domain token, or a mailbox user's password) opens a
 * session in the store; an HttpOnly, SameSite=Strict cookie carries it (Secure, and `__Host-` named,
 * over HTTPS). Every form carries the session's CSRF token, checked on every POST, besides Hono's
 * Origin check. A session ends on sign-out, at expiry, or when what opened it changes.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Principal } from "../../src/admin/principal.ts";
import { randomSecret, type SessionRecord, sha256Hex } from "../../src/store/access.ts";
import { timingSafeEqualText } from "../../src/store/password.ts";
import type { EdgeContext } from "../context.ts";

export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;

export interface Session {
  principal: Principal;
  csrf: string;
}

/** True when cookies must be Secure: the request came over HTTPS, or the edge's public URL is HTTPS. */
export function isSecure(c: Context, publicHttps: boolean): boolean {
  return publicHttps || new URL(c.req.url).protocol === "https:";
}

const cookieName = (secure: boolean) => (secure ? "__Host-mxedge_session" : "mxedge_session");
const signInCookieName = (secure: boolean) => (secure ? "__Host-mxedge_signin" : "mxedge_signin");

function cookieOptions(secure: boolean, maxAge?: number) {
  // __Host- cookies must have Path=/ and Secure; plain-HTTP ones stay under /dashboard.
  return {
    httpOnly: true,
    secure,
    sameSite: "Strict" as const,
    path: secure ? "/" : "/dashboard",
    ...(maxAge === undefined ? {} : { maxAge }),
  };
}

const adminFingerprint = (ctx: EdgeContext) => sha256Hex(`admin:${ctx.adminToken}`);

/** What a session record stands for now, or null when what opened it has changed or gone. */
async function principalOf(ctx: EdgeContext, s: SessionRecord): Promise<Principal | null> {
  if (s.kind === "admin") {
    const expected = await adminFingerprint(ctx);
    return ctx.adminToken && timingSafeEqualText(s.fingerprint, expected) ? { kind: "admin" } : null;
  }
  const id = Number(s.subject);
  if (!Number.isSafeInteger(id)) return null;
  if (s.kind === "token") {
    const t = await ctx.store.access.tokenById(id);
    return t && timingSafeEqualText(t.hash, s.fingerprint)
      ? { kind: "domain", domain: t.domain, tokenId: t.id }
      : null;
  }
  const u = await ctx.store.access.userById(id);
  if (!u || !timingSafeEqualText(await sha256Hex(u.passwordHash), s.fingerprint)) return null;
  return { kind: "user", userId: u.id, login: u.login };
}

/** The session behind this request's cookie, if it is still good. */
export async function currentSession(c: Context, ctx: EdgeContext, secure: boolean): Promise<Session | null> {
  const cookie = getCookie(c, cookieName(secure));
  if (!cookie) return null;
  const record = await ctx.store.access.session(cookie, ctx.now());
  if (!record) return null;
  const principal = await principalOf(ctx, record);
  return principal ? { principal, csrf: record.csrf } : null;
}

/** Opens a session for `principal` and sets its cookie. */
export async function openSession(
  c: Context,
  ctx: EdgeContext,
  principal: Principal,
  opts: { secure: boolean; ttlMs: number },
): Promise<void> {
  let record: Omit<SessionRecord, "csrf" | "expiresAt">;
  if (principal.kind === "admin") {
    record = { kind: "admin", subject: "admin", fingerprint: await adminFingerprint(ctx) };
  } else if (principal.kind === "domain") {
    const t = await ctx.store.access.tokenById(principal.tokenId);
    if (!t) throw new Error("token vanished while signing in");
    record = { kind: "token", subject: String(t.id), fingerprint: t.hash };
  } else {
    const u = await ctx.store.access.userById(principal.userId);
    if (!u) throw new Error("user vanished while signing in");
    record = { kind: "user", subject: String(u.id), fingerprint: await sha256Hex(u.passwordHash) };
  }
  const cookie = await ctx.store.access.openSession(
    { ...record, csrf: randomSecret(24), expiresAt: ctx.now() + opts.ttlMs },
    ctx.now(),
  );
  setCookie(c, cookieName(opts.secure), cookie, cookieOptions(opts.secure, Math.floor(opts.ttlMs / 1000)));
  deleteCookie(c, signInCookieName(opts.secure), cookieOptions(opts.secure));
}

export async function closeSession(c: Context, ctx: EdgeContext, secure: boolean): Promise<void> {
  const cookie = getCookie(c, cookieName(secure));
  if (cookie) await ctx.store.access.closeSession(cookie);
  deleteCookie(c, cookieName(secure), cookieOptions(secure));
}

/** The sign-in form's CSRF token (no session yet): a cookie the form must echo. */
export function signInToken(c: Context, secure: boolean): string {
  const existing = getCookie(c, signInCookieName(secure));
  if (existing && /^[\w-]{20,64}$/.test(existing)) return existing;
  const token = randomSecret(24);
  setCookie(c, signInCookieName(secure), token, cookieOptions(secure, 3600));
  return token;
}

export function checkSignInToken(c: Context, secure: boolean, given: string): boolean {
  const expected = getCookie(c, signInCookieName(secure));
  return !!expected && !!given && timingSafeEqualText(given, expected);
}

export function checkCsrf(session: Session, given: string): boolean {
  return !!given && timingSafeEqualText(given, session.csrf);
}
