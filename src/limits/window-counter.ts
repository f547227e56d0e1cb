/**
 * Per-key event counts over a sliding time window (timestamps kept per key, pruned on access), for
 * per-IP AUTH failures and per-IP message rates. Keys with no recent events are dropped, so memory is
 * bounded by the number of recently active client IPs.
 */
export class WindowCounter {
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #events = new Map<string, number[]>();
  #lastSweep = 0;

  constructor(windowMs: number, now: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Events for `key` within the window. */
  count(key: string): number {
    return this.#recent(key).length;
  }

  /** Records one event; returns the count including it. */
  add(key: string): number {
    const list = this.#recent(key);
    list.push(this.#now());
    this.#events.set(key, list);
    return list.length;
  }

  #recent(key: string): number[] {
    const now = this.#now();
    if (now - this.#lastSweep > this.#windowMs) this.#sweep(now);
    const list = this.#events.get(key) ?? [];
    const cutoff = now - this.#windowMs;
    let drop = 0;
    while (drop < list.length && (list[drop] ?? 0) <= cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) this.#events.delete(key);
    return list;
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    const cutoff = now - this.#windowMs;
    for (const [key, list] of this.#events) if ((list.at(-1) ?? 0) <= cutoff) this.#events.delete(key);
  }
}
