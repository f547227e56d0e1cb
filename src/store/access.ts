/**
 * Who may use the admin API and the dashboard, besides the admin token: API tokens scoped to one
 * domain, and dashboard sessions. Secrets are never stored, only their SHA-256.
 */
import { and, asc, eq, lt } from "drizzle-orm";
import { toBase64Url } from "../encoding.ts";
import { sha256, toHex } from "../sha256.ts";
import type { Db } from "./db.ts";
import { StoreError } from "./errors.ts";
import { apiTokens, dashboardSessions, domains, type SessionKind, users } from "./schema.ts";

/** Scoped tokens start with this, so a leaked one is recognisable (and scannable) as an mxedge token. */
export const TOKEN_PREFIX = "mxe_";

export interface ApiTokenInfo {
  id: number;
  name: string;
  domain: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface SessionRecord {
  kind: SessionKind;
  subject: string;
  fingerprint: string;
  csrf: string;
  expiresAt: number;
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await sha256(new TextEncoder().encode(text)));
}

/** A random secret of `bytes` bytes, base64url. */
export function randomSecret(bytes = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

const tokenColumns = {
  id: apiTokens.id,
  name: apiTokens.name,
  domain: domains.name,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
};

export class AccessStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** A new token for `domain`; the secret is in the answer only. */
  async createToken(name: string, domain: string): Promise<ApiTokenInfo & { token: string }> {
    const d = await this.#db.select().from(domains).where(eq(domains.name, domain)).get();
    if (!d) throw new StoreError("not-found", `no domain ${domain}`);
    const token = `${TOKEN_PREFIX}${randomSecret()}`;
    const row = await this.#db
      .insert(apiTokens)
      .values({ name, domainId: d.id, tokenHash: await sha256Hex(token) })
      .returning()
      .get();
    return { id: row.id, name, domain: d.name, createdAt: row.createdAt, lastUsedAt: null, token };
  }

  async listTokens(domain?: string): Promise<ApiTokenInfo[]> {
    return this.#db
      .select(tokenColumns)
      .from(apiTokens)
      .innerJoin(domains, eq(domains.id, apiTokens.domainId))
      .where(domain ? eq(domains.name, domain) : undefined)
      .orderBy(asc(domains.name), asc(apiTokens.id));
  }

  async removeToken(id: number): Promise<{ id: number }> {
    const row = await this.#db.delete(apiTokens).where(eq(apiTokens.id, id)).returning().get();
    if (!row) throw new StoreError("not-found", `no token ${id}`);
    return { id };
  }

  /** The token's record when `token` is a live scoped token; its last use is recorded (per minute). */
  async verifyToken(token: string, now: number): Promise<(ApiTokenInfo & { hash: string }) | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const hash = await sha256Hex(token);
    const row = await this.#db
      .select(tokenColumns)
      .from(apiTokens)
      .innerJoin(domains, eq(domains.id, apiTokens.domainId))
      .where(eq(apiTokens.tokenHash, hash))
      .get();
    if (!row) return null;
    if (row.lastUsedAt === null || now - row.lastUsedAt > 60_000)
      await this.#db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
    return { ...row, hash };
  }

  async tokenById(id: number): Promise<(ApiTokenInfo & { hash: string }) | null> {
    const row = await this.#db
      .select({ ...tokenColumns, hash: apiTokens.tokenHash })
      .from(apiTokens)
      .innerJoin(domains, eq(domains.id, apiTokens.domainId))
      .where(eq(apiTokens.id, id))
      .get();
    return row ?? null;
  }

  /** A mailbox user as a session sees it: the password hash is its fingerprint. */
  async userById(id: number): Promise<{ id: number; login: string; passwordHash: string } | null> {
    const row = await this.#db
      .select({ id: users.id, login: users.login, passwordHash: users.passwordHash })
      .from(users)
      .where(and(eq(users.id, id), eq(users.disabled, false)))
      .get();
    return row ?? null;
  }

  /** Opens a session; returns the cookie value (random, never stored). Expired sessions are swept here. */
  async openSession(s: SessionRecord, now: number): Promise<string> {
    const cookie = randomSecret();
    await this.#db.batch([
      this.#db.delete(dashboardSessions).where(lt(dashboardSessions.expiresAt, now)),
      this.#db.insert(dashboardSessions).values({ id: await sha256Hex(cookie), ...s }),
    ]);
    return cookie;
  }

  async session(cookie: string, now: number): Promise<SessionRecord | null> {
    const row = await this.#db
      .select()
      .from(dashboardSessions)
      .where(eq(dashboardSessions.id, await sha256Hex(cookie)))
      .get();
    if (!row || row.expiresAt <= now) return null;
    return {
      kind: row.kind,
      subject: row.subject,
      fingerprint: row.fingerprint,
      csrf: row.csrf,
      expiresAt: row.expiresAt,
    };
  }

  async closeSession(cookie: string): Promise<void> {
    await this.#db.delete(dashboardSessions).where(eq(dashboardSessions.id, await sha256Hex(cookie)));
  }
}
