/**
 * Open-connection accounting for the SMTP listeners: a total cap and a per-client-IP cap (the real client IP,
 * from the PROXY header when there is one). `acquire` returns a release function, or null when full.
 */
export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

export type Acquired = { ok: true; release: () => void } | { ok: false; reason: "total" | "per-ip" };

export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  get open(): number {
    return this.#total;
  }

  acquire(ip: string): Acquired {
    if (this.#total >= this.#limits.maxConnections) return { ok: false, reason: "total" };
    const n = this.#perIp.get(ip) ?? 0;
    if (n >= this.#limits.maxConnectionsPerIp) return { ok: false, reason: "per-ip" };
    this.#total++;
    this.#perIp.set(ip, n + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#total--;
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
      },
    };
  }
}
