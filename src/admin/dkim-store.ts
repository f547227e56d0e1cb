/** DKIM keys in the store: generate, rotate, list, remove, and the decrypted active key for signing. */
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../store/db.ts";
import { StoreError } from "../store/errors.ts";
import { type DkimAlgorithm, dkimKeys, domains } from "../store/schema.ts";
import {
  decryptPrivateKey,
  dkimRecordValue,
  encryptPrivateKey,
  generateDkimKey,
  nextSelector,
} from "./dkim-keys.ts";

export interface DkimKeyInfo {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  active: boolean;
  createdAt: number;
  retiredAt: number | null;
  /** The TXT record's name and value. */
  name: string;
  record: string;
}

const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export class DkimKeys {
  readonly #db: Db;
  readonly #secret: string | undefined;
  readonly #now: () => number;
  constructor(db: Db, secret: string | undefined, now: () => number = Date.now) {
    this.#db = db;
    this.#secret = secret;
    this.#now = now;
  }

  async #domain(name: string) {
    const row = await this.#db.select().from(domains).where(eq(domains.name, name)).get();
    if (!row) throw new StoreError("not-found", `no domain ${name}`);
    return row;
  }

  #info(domain: string, r: typeof dkimKeys.$inferSelect): DkimKeyInfo {
    return {
      domain,
      selector: r.selector,
      algorithm: r.algorithm,
      active: r.active,
      createdAt: r.createdAt,
      retiredAt: r.retiredAt ?? null,
      name: `${r.selector}._domainkey.${domain}`,
      record: dkimRecordValue(r.algorithm, r.publicKey),
    };
  }

  async list(domain: string): Promise<DkimKeyInfo[]> {
    const d = await this.#domain(domain);
    const rows = await this.#db
      .select()
      .from(dkimKeys)
      .where(eq(dkimKeys.domainId, d.id))
      .orderBy(asc(dkimKeys.createdAt), asc(dkimKeys.id));
    return rows.map((r) => this.#info(d.name, r));
  }

  #requireSecret(): string {
    if (!this.#secret) {
      throw new StoreError(
        "invalid",
        "no DKIM key-encryption secret configured (Worker secret DKIM_KEY, or MXEDGE_DKIM_KEY)",
      );
    }
    return this.#secret;
  }

  /** A new active key; refused when the domain already has an active key of that algorithm. */
  async generate(domain: string, algorithm: DkimAlgorithm, selector?: string): Promise<DkimKeyInfo> {
    const d = await this.#domain(domain);
    const existing = await this.list(d.name);
    if (existing.some((k) => k.active && k.algorithm === algorithm)) {
      throw new StoreError(
        "exists",
        `${d.name} already has an active ${algorithm} key; use dkim rotate to replace it`,
      );
    }
    return this.#insert(d, algorithm, selector, existing);
  }

  /**
   * New keys replacing the active ones (of one algorithm, or all); the old ones are retired but stay
   * listed (and published) until removed, so mail signed with them still verifies.
   */
  async rotate(
    domain: string,
    algorithm: DkimAlgorithm | undefined,
    selector?: string,
  ): Promise<{ keys: DkimKeyInfo[]; retired: string[] }> {
    const d = await this.#domain(domain);
    const existing = await this.list(d.name);
    const old = existing.filter((k) => k.active && (algorithm === undefined || k.algorithm === algorithm));
    if (old.length === 0) {
      throw new StoreError("not-found", `${d.name} has no active ${algorithm ?? "DKIM"} key to rotate`);
    }
    const algorithms = [...new Set(old.map((k) => k.algorithm))];
    if (selector !== undefined && algorithms.length > 1) {
      throw new StoreError(
        "invalid",
        "a selector names one key: give the algorithm too when several keys are active",
      );
    }
    const keys: DkimKeyInfo[] = [];
    for (const alg of algorithms) {
      const key = await this.#insert(d, alg, selector, [...existing, ...keys]);
      keys.push(key);
    }
    for (const k of old) {
      await this.#db
        .update(dkimKeys)
        .set({ active: false, retiredAt: this.#now() })
        .where(and(eq(dkimKeys.domainId, d.id), eq(dkimKeys.selector, k.selector)));
    }
    return { keys, retired: old.map((k) => k.selector) };
  }

  async remove(domain: string, selector: string): Promise<{ selector: string }> {
    const d = await this.#domain(domain);
    const row = await this.#db
      .select()
      .from(dkimKeys)
      .where(and(eq(dkimKeys.domainId, d.id), eq(dkimKeys.selector, selector)))
      .get();
    if (!row) throw new StoreError("not-found", `no DKIM key ${selector} for ${d.name}`);
    if (row.active) throw new StoreError("invalid", `${selector} is the active key; rotate it first`);
    await this.#db.delete(dkimKeys).where(eq(dkimKeys.id, row.id));
    return { selector };
  }

  /** The decrypted private keys that sign mail for a domain now (one per algorithm). */
  async signingKeys(
    domain: string,
  ): Promise<Array<{ selector: string; algorithm: DkimAlgorithm; privateKeyPem: string }>> {
    const secret = this.#requireSecret();
    const d = await this.#domain(domain);
    const rows = await this.#db
      .select()
      .from(dkimKeys)
      .where(and(eq(dkimKeys.domainId, d.id), eq(dkimKeys.active, true)));
    return Promise.all(
      rows.map(async (r) => ({
        selector: r.selector,
        algorithm: r.algorithm,
        privateKeyPem: await decryptPrivateKey(r.privateKey, secret, d.name, r.selector),
      })),
    );
  }

  async #insert(
    d: { id: number; name: string },
    algorithm: DkimAlgorithm,
    selector: string | undefined,
    existing: DkimKeyInfo[],
  ): Promise<DkimKeyInfo> {
    const secret = this.#requireSecret();
    const sel =
      selector ??
      nextSelector(
        existing.map((k) => k.selector),
        this.#now(),
      );
    if (!SELECTOR.test(sel)) throw new StoreError("invalid", `not a valid selector: ${JSON.stringify(sel)}`);
    if (existing.some((k) => k.selector === sel)) {
      throw new StoreError("exists", `selector ${sel} is already used for ${d.name}`);
    }
    const pair = await generateDkimKey(algorithm);
    const row = await this.#db
      .insert(dkimKeys)
      .values({
        domainId: d.id,
        selector: sel,
        algorithm,
        privateKey: await encryptPrivateKey(pair.privateKeyPem, secret, d.name, sel),
        publicKey: pair.publicKey,
        active: true,
        createdAt: this.#now(),
      })
      .returning()
      .get();
    return this.#info(d.name, row);
  }
}
