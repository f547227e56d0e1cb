/**
 * Per-relay IMAP limits: login failures per client IP and per user (a sliding window), and open
 * sessions per user+IP. Counters live in this process only; with N relays each enforces its share.
 */
export interface ImapLimitOptions {
  /** Failures allowed per IP and per user inside the window before logins are refused. */
  maxAuthFailures: number;
  authWindowMs: number;
  maxConnectionsPerUserIp: number;
}

export const DEFAULT_IMAP_LIMITS: ImapLimitOptions = {
  maxAuthFailures: 10,
  authWindowMs: 5 * 60 * 1000,
  maxConnectionsPerUserIp: 20,
};

export class ImapLimits {
  readonly #opts: ImapLimitOptions;
  readonly #failures = new Map<string, number[]>();
  readonly #sessions = new Map<string, number>();
  readonly #now: () => number;

  constructor(opts: Partial<ImapLimitOptions> = {}, now: () => number = Date.now) {
    this.#opts = { ...DEFAULT_IMAP_LIMITS, ...opts };
    this.#now = now;
  }

  #recent(key: string): number[] {
    const since = this.#now() - this.#opts.authWindowMs;
    const list = (this.#failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** True when this IP or this user has failed too often lately. */
  authBlocked(ip: string, user: string): boolean {
    return (
      this.#recent(`ip:${ip}`).length >= this.#opts.maxAuthFailures ||
      this.#recent(`user:${user.toLowerCase()}`).length >= this.#opts.maxAuthFailures
    );
  }

  authFailed(ip: string, user: string): void {
    for (const key of [`ip:${ip}`, `user:${user.toLowerCase()}`]) {
      const list = this.#recent(key);
      list.push(this.#now());
      this.#failures.set(key, list);
    }
    if (this.#failures.size > 100_000) this.#failures.clear();
  }

  /** Takes a session slot for user+IP; false when the limit is reached. */
  open(user: string, ip: string): boolean {
    const key = `${user.toLowerCase()}|${ip}`;
    const n = this.#sessions.get(key) ?? 0;
    if (n >= this.#opts.maxConnectionsPerUserIp) return false;
    this.#sessions.set(key, n + 1);
    return true;
  }

  close(user: string, ip: string): void {
    const key = `${user.toLowerCase()}|${ip}`;
    const n = (this.#sessions.get(key) ?? 1) - 1;
    if (n <= 0) this.#sessions.delete(key);
    else this.#sessions.set(key, n);
  }
}
