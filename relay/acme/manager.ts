/**
 * Certificates from an ACME CA (RFC 8555) through acme-client: ordered at start when none is stored,
 * renewed `renewBeforeDays` before expiry, retried with jittered exponential backoff on failure.
 * Account key, certificate and key live in <dataDir>/acme with mode 0600. A failure is logged and
 * reported (CertStore problems → /readyz) while the listeners keep the certificate they have.
 */
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { join } from "node:path";
import acme from "acme-client";
import type { AcmeConfig } from "../../src/config.ts";
import { type CertStore, makeEntry } from "../certs/store.ts";
import type { Logger } from "../log.ts";
import { CloudflareDns } from "./cloudflare.ts";
import { Http01Responder } from "./http01.ts";
import { readPrivate, writePrivate } from "./private-files.ts";

export const ACME_SOURCE = "acme";
const DAY = 86_400_000;

export interface AcmeStatus {
  domains: string[];
  notAfter: string | null;
  lastError: string | null;
  nextCheck: string | null;
  failures: number;
}

export interface AcmeManagerOptions {
  config: AcmeConfig;
  dataDir: string;
  store: CertStore;
  log: Logger;
  env: Record<string, string | undefined>;
}

/** The delay before retry number `failures` (1, 2, …): base·2^(n-1) capped at max, times 0.5–1.5. */
export function retryDelay(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
  const plain = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(plain * (0.5 + random()));
}

export function needsRenewal(notAfter: Date, renewBeforeDays: number, now = Date.now()): boolean {
  return notAfter.getTime() - now <= renewBeforeDays * DAY;
}

export class AcmeManager {
  readonly #o: AcmeManagerOptions;
  readonly #dir: string;
  readonly #http = new Http01Responder();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;
  #failures = 0;
  #lastError: string | null = null;
  #nextCheck: number | null = null;
  #httpPort: number | null = null;

  constructor(o: AcmeManagerOptions) {
    this.#o = o;
    this.#dir = join(o.dataDir, "acme");
  }

  get httpPort(): number | null {
    return this.#httpPort;
  }

  get certPath(): string {
    return join(this.#dir, "certificate.pem");
  }

  get keyPath(): string {
    return join(this.#dir, "certificate.key");
  }

  status(): AcmeStatus {
    const e = this.#o.store.get(ACME_SOURCE);
    return {
      domains: this.#o.config.domains,
      notAfter: e ? e.notAfter.toISOString() : null,
      lastError: this.#lastError,
      nextCheck: this.#nextCheck ? new Date(this.#nextCheck).toISOString() : null,
      failures: this.#failures,
    };
  }

  /** Loads a stored certificate (if any), opens the HTTP-01 port, and schedules the first check now. */
  async start(): Promise<void> {
    this.#loadStored();
    if (this.#o.config.challenge === "http-01") {
      this.#httpPort = await this.#http.listen(this.#o.config.http.host, this.#o.config.http.port);
      this.#o.log.info("acme.http01.listening", { host: this.#o.config.http.host, port: this.#httpPort });
    }
    this.#schedule(0);
  }

  /** True when the stored certificate (if any) was loaded into the store. */
  #loadStored(): boolean {
    const cert = readPrivate(this.certPath);
    const key = readPrivate(this.keyPath);
    if (!cert || !key) return false;
    try {
      this.#o.store.set(makeEntry(ACME_SOURCE, { cert, key }), true);
      return true;
    } catch (err) {
      this.#o.log.error("acme.stored-unreadable", { path: this.certPath, reason: (err as Error).message });
      return false;
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#nextCheck = Date.now() + ms;
    this.#timer = setTimeout(() => void this.check(), ms);
    this.#timer.unref?.();
  }

  /** One check: re-reads the stored certificate (it may have been replaced), orders a new one if due. */
  check(): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = (async () => {
      const { config, log, store } = this.#o;
      this.#loadStored();
      const current = store.get(ACME_SOURCE);
      const due = !current || needsRenewal(current.notAfter, config.renewBeforeDays);
      if (!due) {
        this.#schedule(config.checkIntervalMs);
        return;
      }
      log.info("acme.ordering", {
        domains: config.domains,
        reason: current ? `expires ${current.notAfter.toISOString()}` : "no certificate",
      });
      try {
        const pem = await this.#order();
        const entry = makeEntry(ACME_SOURCE, pem);
        writePrivate(this.keyPath, pem.key);
        writePrivate(this.certPath, pem.cert);
        store.set(entry, true);
        store.problem(ACME_SOURCE, null);
        this.#failures = 0;
        this.#lastError = null;
        log.info("acme.issued", { domains: entry.names, notAfter: entry.notAfter.toISOString() });
        this.#schedule(config.checkIntervalMs);
      } catch (err) {
        this.#failures++;
        this.#lastError = (err as Error).message;
        const delay = retryDelay(this.#failures, config.retryBaseMs, config.retryMaxMs);
        const keeping = current && current.notAfter.getTime() > Date.now();
        store.problem(
          ACME_SOURCE,
          `certificate order failed (${this.#failures}×): ${this.#lastError}; next try in ${Math.round(delay / 1000)} s${keeping ? "; serving the current certificate until it expires" : ""}`,
        );
        log.error("acme.failed", {
          domains: config.domains,
          failures: this.#failures,
          reason: this.#lastError,
          retryInMs: delay,
        });
        this.#schedule(delay);
      }
    })().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #accountKey(): Promise<string> {
    const path = join(this.#dir, "account.key");
    const stored = readPrivate(path);
    if (stored) return stored;
    const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
    writePrivate(path, key);
    return key;
  }

  async #order(): Promise<{ cert: string; key: string }> {
    const { config, env } = this.#o;
    acme.setLogger((message) => this.#o.log.debug("acme.client", { message }));
    // No request may hang an order for ever (a CA that went away mid-order).
    acme.axios.defaults.timeout = 30_000;
    // acme-client retries a refused connection itself (5 × 5–25 s); the manager's own jittered retry
    // schedule is the one that counts, so one inner attempt is enough.
    const settings = (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number } }).acmeSettings;
    if (settings) settings.retryMaxAttempts = 1;
    if (config.caFile) {
      // The ACME directory's own HTTPS is signed by a private CA (pebble in tests, a company CA).
      acme.axios.defaults.httpsAgent = new Agent({
        ca: readFileSync(config.caFile, "utf8"),
        keepAlive: false,
      });
    }
    // The account's URL is kept next to its key: registering again with a known key makes acme-client
    // send an account update, which some CAs (pebble) refuse.
    const accountFile = join(this.#dir, "account.json");
    const known = JSON.parse(readPrivate(accountFile) ?? "{}") as {
      directoryUrl?: string;
      accountUrl?: string;
    };
    const client = new acme.Client({
      directoryUrl: config.directoryUrl,
      accountKey: await this.#accountKey(),
      ...(known.directoryUrl === config.directoryUrl && known.accountUrl
        ? { accountUrl: known.accountUrl }
        : {}),
      backoffAttempts: 10,
      backoffMin: 200,
      backoffMax: 5000,
    });
    const certKey = (await acme.crypto.createPrivateEcdsaKey()).toString();
    const [, csr] = await acme.crypto.createCsr(
      { commonName: config.domains[0], altNames: config.domains },
      certKey,
    );
    const dns = config.challenge === "dns-01" ? this.#cloudflare(env) : null;
    const records = new Map<string, { zoneId: string; id: string }>();
    const cert = await client.auto({
      csr,
      email: config.email,
      termsOfServiceAgreed: true,
      challengePriority: [config.challenge],
      skipChallengeVerification: !config.selfCheck,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type === "http-01") {
          this.#http.set(challenge.token, keyAuthorization);
          return;
        }
        if (challenge.type === "dns-01" && dns) {
          const name = `_acme-challenge.${authz.identifier.value}`;
          records.set(challenge.token, await dns.createTxt(name, keyAuthorization));
          this.#o.log.info("acme.dns01.created", { name });
          if (config.cloudflare.propagationMs > 0)
            await new Promise((r) => setTimeout(r, config.cloudflare.propagationMs));
          return;
        }
        throw new Error(`unsupported challenge ${challenge.type}`);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        this.#http.delete(challenge.token);
        const ref = records.get(challenge.token);
        if (ref && dns) {
          records.delete(challenge.token);
          await dns.deleteTxt(ref);
        }
      },
    });
    const accountUrl = client.getAccountUrl();
    if (accountUrl !== known.accountUrl)
      writePrivate(accountFile, JSON.stringify({ directoryUrl: config.directoryUrl, accountUrl }));
    return { cert, key: certKey };
  }

  #cloudflare(env: Record<string, string | undefined>): CloudflareDns {
    const cf = this.#o.config.cloudflare;
    const fromFile = cf.tokenFile ? readFileSync(cf.tokenFile, "utf8").trim() : "";
    const token = env.MXEDGE_CLOUDFLARE_TOKEN || fromFile;
    if (!token)
      throw new Error(
        "dns-01 needs a Cloudflare API token: MXEDGE_CLOUDFLARE_TOKEN or tls.acme.cloudflare.tokenFile",
      );
    return new CloudflareDns({ apiUrl: cf.apiUrl, token, zoneId: cf.zoneId });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#http.close();
  }
}
