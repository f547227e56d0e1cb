/**
 * The directory: domains, users, addresses, and the recipient decision made at RCPT time.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { formatAddress, parseAddress, splitPlus } from "../address.ts";
import type { Db } from "./db.ts";
import { StoreError } from "./errors.ts";
import { hashPassword, isVerifiableHash, needsRehash, verifyPassword } from "./password.ts";
import { addresses, domains, mailboxes, users } from "./schema.ts";

/** Mailboxes every new user gets, with their RFC 6154 special-use attributes. */
export const DEFAULT_MAILBOXES: ReadonlyArray<{ name: string; specialUse: string | null }> = [
  { name: "INBOX", specialUse: null },
  { name: "Drafts", specialUse: "\\Drafts" },
  { name: "Sent", specialUse: "\\Sent" },
  { name: "Junk", specialUse: "\\Junk" },
  { name: "Trash", specialUse: "\\Trash" },
];

export type RecipientResolution =
  /** Deliver to these users' INBOXes. */
  | { status: "local"; address: string; userIds: number[] }
  /** An explicit discard address: accept and drop. */
  | { status: "discard"; address: string }
  /** Our domain, but nobody by that name: 550 5.1.1 at RCPT time. */
  | { status: "unknown-user"; address: string }
  /** Not one of our domains. */
  | { status: "not-local"; address: string }
  /** Not a usable address at all. */
  | { status: "invalid"; address: string };

const MAX_ALIAS_DEPTH = 5;

export interface DomainRecord {
  id: number;
  name: string;
  plusAddressing: boolean;
  settings: Record<string, unknown>;
}

export interface AliasRecord {
  address: string;
  kind: "alias" | "discard";
  targets: string[];
}

function checkPassword(password: string): void {
  if (password.length < 8) throw new StoreError("invalid", "password must be at least 8 characters");
}

export function normaliseDomain(name: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, "");
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(d)) {
    throw new StoreError("invalid", `not a valid domain name: ${JSON.stringify(name)}`);
  }
  return d;
}

const p = sql.placeholder;

/** The look-ups made for every recipient (RCPT, then again at ingest), prepared once (see compiled.ts). */
function recipientQueries(db: Db) {
  return {
    domain: db
      .select({ id: domains.id, plusAddressing: domains.plusAddressing })
      .from(domains)
      .where(eq(domains.name, p("name")))
      .prepare(),
    // Up to three candidates (the local part, its base without +tag, "*"); unused slots repeat one.
    addresses: db
      .select({
        localPart: addresses.localPart,
        kind: addresses.kind,
        userId: addresses.userId,
        target: addresses.target,
      })
      .from(addresses)
      .where(
        and(eq(addresses.domainId, p("domainId")), inArray(addresses.localPart, [p("c0"), p("c1"), p("c2")])),
      )
      .prepare(),
    quota: db
      .select({ q: users.quotaBytes })
      .from(users)
      .where(eq(users.id, p("userId")))
      .prepare(),
    mailboxOfUser: db
      .select({ id: mailboxes.id })
      .from(mailboxes)
      .where(and(eq(mailboxes.userId, p("userId")), eq(mailboxes.name, p("name"))))
      .prepare(),
  };
}

export class Directory {
  readonly #db: Db;
  readonly #q: ReturnType<typeof recipientQueries>;
  constructor(db: Db) {
    this.#db = db;
    this.#q = recipientQueries(db);
  }

  async addDomain(name: string): Promise<{ id: number; name: string }> {
    const domain = normaliseDomain(name);
    const existing = await this.#db.select().from(domains).where(eq(domains.name, domain)).get();
    if (existing) throw new StoreError("exists", `domain ${domain} already exists`);
    const row = await this.#db.insert(domains).values({ name: domain }).returning().get();
    return { id: row.id, name: row.name };
  }

  async listDomains(): Promise<Array<{ id: number; name: string; plusAddressing: boolean }>> {
    return this.#db
      .select({ id: domains.id, name: domains.name, plusAddressing: domains.plusAddressing })
      .from(domains)
      .orderBy(asc(domains.name));
  }

  /** Creates a user whose login is `address`, its mailbox address, and its default mailboxes. */
  async addUser(address: string, password: string): Promise<{ id: number; login: string }> {
    checkPassword(password);
    return this.#createUser(address, () => hashPassword(password));
  }

  /**
   * Creates a user with an existing password hash (imported from Dovecot: bcrypt, SHA-crypt, Argon2id,
   * or this server's own PBKDF2). The hash is replaced by PBKDF2 at the user's next successful login.
   */
  async importUser(address: string, passwordHash: string): Promise<{ id: number; login: string }> {
    if (!isVerifiableHash(passwordHash)) {
      throw new StoreError(
        "invalid",
        "unsupported password hash (expected bcrypt, SHA256-CRYPT, SHA512-CRYPT, ARGON2ID or PBKDF2)",
      );
    }
    return this.#createUser(address, async () => passwordHash);
  }

  async #createUser(
    address: string,
    makeHash: () => Promise<string>,
  ): Promise<{ id: number; login: string }> {
    const parsed = parseAddress(address.trim());
    if (!parsed || parsed.local.includes("*")) {
      throw new StoreError("invalid", `not a valid address: ${JSON.stringify(address)}`);
    }
    const login = formatAddress(parsed);
    const domain = await this.#db.select().from(domains).where(eq(domains.name, parsed.domain)).get();
    if (!domain) throw new StoreError("not-found", `domain ${parsed.domain} does not exist; add it first`);
    const taken = await this.#db
      .select({ id: addresses.id })
      .from(addresses)
      .where(and(eq(addresses.domainId, domain.id), eq(addresses.localPart, parsed.local)))
      .get();
    const loginTaken = await this.#db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.login, login))
      .get();
    if (taken || loginTaken) throw new StoreError("exists", `address ${login} already exists`);

    const passwordHash = await makeHash();
    const uidValidity = Math.floor(Date.now() / 1000);
    const userId = sql`(select id from ${users} where ${users.login} = ${login})`;
    // One atomic batch: the user, its address and its mailboxes exist together or not at all.
    await this.#db.batch([
      this.#db.insert(users).values({ login, passwordHash }),
      this.#db
        .insert(addresses)
        .values({ domainId: domain.id, localPart: parsed.local, kind: "mailbox", userId }),
      this.#db
        .insert(mailboxes)
        .values(
          DEFAULT_MAILBOXES.map((m) => ({ userId, name: m.name, specialUse: m.specialUse, uidValidity })),
        ),
    ]);
    const user = await this.#db.select().from(users).where(eq(users.login, login)).get();
    if (!user) throw new Error(`user ${login} vanished after insert`);
    return { id: user.id, login: user.login };
  }

  async #user(login: string) {
    const user = await this.#db.select().from(users).where(eq(users.login, login.trim().toLowerCase())).get();
    if (!user) throw new StoreError("not-found", `no user ${login}`);
    return user;
  }

  async setPassword(login: string, password: string): Promise<{ login: string }> {
    checkPassword(password);
    const user = await this.#user(login);
    await this.#db
      .update(users)
      .set({ passwordHash: await hashPassword(password) })
      .where(eq(users.id, user.id));
    return { login: user.login };
  }

  /** Removes a user with its address, mailboxes and their messages (the shared raw blobs stay). */
  async removeUser(login: string): Promise<{ login: string }> {
    const user = await this.#user(login);
    await this.#db.delete(users).where(eq(users.id, user.id));
    return { login: user.login };
  }

  /** Removes a domain; refused while it still has users or aliases, so nothing disappears by accident. */
  async removeDomain(name: string): Promise<{ name: string }> {
    const domain = await this.getDomain(name);
    const left = await this.#db
      .select({ n: sql<number>`count(*)` })
      .from(addresses)
      .where(eq(addresses.domainId, domain.id))
      .get();
    if ((left?.n ?? 0) > 0) {
      throw new StoreError(
        "invalid",
        `domain ${domain.name} still has ${left?.n} address(es); remove its users and aliases first`,
      );
    }
    await this.#db.delete(domains).where(eq(domains.id, domain.id));
    return { name: domain.name };
  }

  async getDomain(name: string): Promise<DomainRecord> {
    const d = normaliseDomain(name);
    const row = await this.#db.select().from(domains).where(eq(domains.name, d)).get();
    if (!row) throw new StoreError("not-found", `no domain ${d}`);
    return { id: row.id, name: row.name, plusAddressing: row.plusAddressing, settings: row.settings ?? {} };
  }

  /** Changes plus-addressing and/or replaces the settings JSON (validated by the caller). */
  async updateDomain(
    name: string,
    change: { plusAddressing?: boolean; settings?: Record<string, unknown> },
  ): Promise<DomainRecord> {
    const domain = await this.getDomain(name);
    const set: Partial<typeof domains.$inferInsert> = {};
    if (change.plusAddressing !== undefined) set.plusAddressing = change.plusAddressing;
    if (change.settings !== undefined) set.settings = change.settings;
    if (Object.keys(set).length > 0) await this.#db.update(domains).set(set).where(eq(domains.id, domain.id));
    return this.getDomain(name);
  }

  /** Aliases, catch-alls and discard addresses, optionally of one domain. */
  async listAliases(domain?: string): Promise<AliasRecord[]> {
    const rows = await this.#db
      .select({
        local: addresses.localPart,
        domain: domains.name,
        kind: addresses.kind,
        target: addresses.target,
      })
      .from(addresses)
      .innerJoin(domains, eq(domains.id, addresses.domainId))
      .where(
        domain === undefined
          ? inArray(addresses.kind, ["alias", "discard"])
          : and(inArray(addresses.kind, ["alias", "discard"]), eq(domains.name, normaliseDomain(domain))),
      )
      .orderBy(asc(domains.name), asc(addresses.localPart));
    return rows.map((r) => ({
      address: `${r.local}@${r.domain}`,
      kind: r.kind === "discard" ? "discard" : "alias",
      targets:
        r.kind === "discard"
          ? []
          : (r.target ?? "")
              .split(",")
              .map((t) => t.trim())
              .filter(Boolean),
    }));
  }

  async removeAlias(address: string): Promise<{ address: string }> {
    const parsed = parseAddress(address.trim());
    if (!parsed) throw new StoreError("invalid", `not a valid alias address: ${JSON.stringify(address)}`);
    const domain = await this.#db.select().from(domains).where(eq(domains.name, parsed.domain)).get();
    const row = domain
      ? await this.#db
          .select()
          .from(addresses)
          .where(and(eq(addresses.domainId, domain.id), eq(addresses.localPart, parsed.local)))
          .get()
      : undefined;
    if (!row || row.kind === "mailbox")
      throw new StoreError("not-found", `no alias ${formatAddress(parsed)}`);
    await this.#db.delete(addresses).where(eq(addresses.id, row.id));
    return { address: formatAddress(parsed) };
  }

  /**
   * Adds an alias (`*@domain` is the catch-all) that expands to one or more local addresses, or a discard
   * address (`targets = "discard"`). Targets outside our domains would need outbound delivery, which does
   * not exist yet, so they are refused here rather than accepted and silently dropped later.
   */
  async addAlias(address: string, targets: string[] | "discard"): Promise<{ id: number; address: string }> {
    const parsed = parseAddress(address.trim());
    if (!parsed || (parsed.local.includes("*") && parsed.local !== "*")) {
      throw new StoreError("invalid", `not a valid alias address: ${JSON.stringify(address)}`);
    }
    const domain = await this.#db.select().from(domains).where(eq(domains.name, parsed.domain)).get();
    if (!domain) throw new StoreError("not-found", `domain ${parsed.domain} does not exist; add it first`);
    let target: string | null = null;
    if (targets !== "discard") {
      if (targets.length === 0) throw new StoreError("invalid", "an alias needs at least one target");
      const normalised: string[] = [];
      for (const t of targets) {
        const p = parseAddress(t.trim());
        if (!p) throw new StoreError("invalid", `not a valid target address: ${JSON.stringify(t)}`);
        const local = await this.#db
          .select({ id: domains.id })
          .from(domains)
          .where(eq(domains.name, p.domain))
          .get();
        if (!local) {
          throw new StoreError(
            "invalid",
            `${formatAddress(p)} is not in one of our domains: forwarding to external addresses needs outbound delivery, which this server does not have yet`,
          );
        }
        const resolved = await this.#resolve(formatAddress(p), 0);
        if (resolved.status !== "local" && resolved.status !== "discard") {
          throw new StoreError(
            "invalid",
            `unknown alias target ${formatAddress(p)}: no user or alias has that address`,
          );
        }
        normalised.push(formatAddress(p));
      }
      target = normalised.join(", ");
    }
    const taken = await this.#db
      .select({ id: addresses.id })
      .from(addresses)
      .where(and(eq(addresses.domainId, domain.id), eq(addresses.localPart, parsed.local)))
      .get();
    if (taken) throw new StoreError("exists", `address ${formatAddress(parsed)} already exists`);
    const row = await this.#db
      .insert(addresses)
      .values({
        domainId: domain.id,
        localPart: parsed.local,
        kind: targets === "discard" ? "discard" : "alias",
        target,
      })
      .returning()
      .get();
    return { id: row.id, address: formatAddress(parsed) };
  }

  async listUsers(): Promise<Array<{ id: number; login: string; disabled: boolean }>> {
    return this.#db
      .select({ id: users.id, login: users.login, disabled: users.disabled })
      .from(users)
      .orderBy(asc(users.login));
  }

  /** Checks a login and password; returns the user or null. Disabled users never authenticate. */
  async authenticate(login: string, password: string): Promise<{ id: number; login: string } | null> {
    const user = await this.#db.select().from(users).where(eq(users.login, login.trim().toLowerCase())).get();
    if (!user || user.disabled) {
      // Spend comparable time on unknown users so timing does not reveal which logins exist.
      await verifyPassword(password, "$pbkdf2-sha256$i=100000$AAAAAAAAAAAAAAAAAAAAAA$AAAA");
      return null;
    }
    if (!(await verifyPassword(password, user.passwordHash))) return null;
    if (needsRehash(user.passwordHash)) {
      // An imported (bcrypt, SHA-crypt, Argon2id) hash: replace it with this server's scheme now that
      // the password is known. A failure here must not fail the login.
      await this.#db
        .update(users)
        .set({ passwordHash: await hashPassword(password) })
        .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)))
        .catch(() => {});
    }
    return { id: user.id, login: user.login };
  }

  /** A user's own quota (users.quota_bytes; null: the configured default), asked at every RCPT. */
  async quotaOf(userId: number): Promise<number | null> {
    return (await this.#q.quota.get({ userId }))?.q ?? null;
  }

  /** The RCPT-time decision for one envelope recipient. */
  async resolveRecipient(address: string): Promise<RecipientResolution> {
    return this.#resolve(address, 0);
  }

  async #resolve(address: string, depth: number): Promise<RecipientResolution> {
    const parsed = parseAddress(address);
    if (!parsed) return { status: "invalid", address };
    const domain = await this.#q.domain.get({ name: parsed.domain });
    if (!domain) return { status: "not-local", address };
    const canonical = formatAddress(parsed);

    const candidates = [parsed.local];
    if (domain.plusAddressing) {
      const { base, tag } = splitPlus(parsed.local);
      if (tag !== null) candidates.push(base);
    }
    candidates.push("*");
    const rows = await this.#q.addresses.all({
      domainId: domain.id,
      c0: candidates[0],
      c1: candidates[1],
      c2: candidates[2] ?? candidates[1],
    });
    const row = candidates.map((c) => rows.find((r) => r.localPart === c)).find((r) => r !== undefined);
    if (!row) return { status: "unknown-user", address: canonical };

    switch (row.kind) {
      case "mailbox":
        return row.userId === null
          ? { status: "unknown-user", address: canonical }
          : { status: "local", address: canonical, userIds: [row.userId] };
      case "discard":
        return { status: "discard", address: canonical };
      case "alias": {
        if (depth >= MAX_ALIAS_DEPTH) return { status: "unknown-user", address: canonical };
        const targets = (row.target ?? "")
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean);
        const userIds = new Set<number>();
        for (const t of targets) {
          const r = await this.#resolve(t, depth + 1);
          if (r.status === "local") for (const id of r.userIds) userIds.add(id);
        }
        return userIds.size > 0
          ? { status: "local", address: canonical, userIds: [...userIds] }
          : { status: "unknown-user", address: canonical };
      }
    }
  }

  /** The INBOX of each user, for delivery. */
  async inboxes(userIds: number[]): Promise<number[]> {
    return this.mailboxesNamed(userIds, "INBOX");
  }

  /** Each user's mailbox called `preferred` (e.g. Junk for quarantine), or their INBOX if they have none. */
  async mailboxesFor(userIds: number[], preferred: string): Promise<number[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db
      .select({ id: mailboxes.id, userId: mailboxes.userId, name: mailboxes.name })
      .from(mailboxes)
      .where(and(inArray(mailboxes.userId, userIds), inArray(mailboxes.name, [preferred, "INBOX"])));
    return userIds.flatMap((u) => {
      const mine = rows.filter((r) => r.userId === u);
      const pick = mine.find((r) => r.name === preferred) ?? mine.find((r) => r.name === "INBOX");
      return pick ? [pick.id] : [];
    });
  }

  /** Each user's mailbox of this name (e.g. "Junk" for quarantined mail); users without one are skipped. */
  async mailboxesNamed(userIds: number[], name: string): Promise<number[]> {
    if (userIds.length === 0) return [];
    if (userIds.length === 1) {
      const row = await this.#q.mailboxOfUser.get({ userId: userIds[0], name });
      return row ? [row.id] : [];
    }
    const rows = await this.#db
      .select({ id: mailboxes.id })
      .from(mailboxes)
      .where(and(inArray(mailboxes.userId, userIds), eq(mailboxes.name, name)));
    return rows.map((r) => r.id);
  }
}
