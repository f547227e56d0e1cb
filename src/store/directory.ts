/**
 * The directory: domains, users, addresses, and the recipient decision made at RCPT time.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { formatAddress, parseAddress, splitPlus } from "../address.ts";
import type { Db } from "./db.ts";
import { StoreError } from "./errors.ts";
import { hashPassword, verifyPassword } from "./password.ts";
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

function normaliseDomain(name: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, "");
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(d)) {
    throw new StoreError("invalid", `not a valid domain name: ${JSON.stringify(name)}`);
  }
  return d;
}

export class Directory {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
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
    const parsed = parseAddress(address.trim());
    if (!parsed || parsed.local.includes("*")) {
      throw new StoreError("invalid", `not a valid address: ${JSON.stringify(address)}`);
    }
    if (password.length < 8) throw new StoreError("invalid", "password must be at least 8 characters");
    const login = formatAddress(parsed);
    const domain = await this.#db.select().from(domains).where(eq(domains.name, parsed.domain)).get();
    if (!domain) throw new StoreError("not-found", `domain ${parsed.domain} does not exist; add it first`);
    const taken = await this.#db
      .select({ id: addresses.id })
      .from(addresses)
      .where(and(eq(addresses.domainId, domain.id), eq(addresses.localPart, parsed.local)))
      .get();
    if (taken) throw new StoreError("exists", `address ${login} already exists`);

    const passwordHash = await hashPassword(password);
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
    return (await verifyPassword(password, user.passwordHash)) ? { id: user.id, login: user.login } : null;
  }

  /** The RCPT-time decision for one envelope recipient. */
  async resolveRecipient(address: string): Promise<RecipientResolution> {
    return this.#resolve(address, 0);
  }

  async #resolve(address: string, depth: number): Promise<RecipientResolution> {
    const parsed = parseAddress(address);
    if (!parsed) return { status: "invalid", address };
    const domain = await this.#db.select().from(domains).where(eq(domains.name, parsed.domain)).get();
    if (!domain) return { status: "not-local", address };
    const canonical = formatAddress(parsed);

    const candidates = [parsed.local];
    if (domain.plusAddressing) {
      const { base, tag } = splitPlus(parsed.local);
      if (tag !== null) candidates.push(base);
    }
    candidates.push("*");
    const rows = await this.#db
      .select()
      .from(addresses)
      .where(and(eq(addresses.domainId, domain.id), inArray(addresses.localPart, candidates)));
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
    const rows = await this.#db
      .select({ id: mailboxes.id })
      .from(mailboxes)
      .where(and(inArray(mailboxes.userId, userIds), eq(mailboxes.name, name)));
    return rows.map((r) => r.id);
  }
}
