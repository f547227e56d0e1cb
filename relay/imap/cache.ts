/**
 * A bounded map with second-chance (CLOCK) eviction. A hit only marks its entry: reordering a Map on
 * every read (delete + set) cost more than the rest of a 10,000-message FETCH of cached views.
 * Eviction walks from the oldest entry; a marked one is unmarked and moved to the back once.
 */
class SecondChance<V> {
  readonly #max: number;
  readonly #cost: (v: V) => number;
  #total = 0;
  readonly #map = new Map<string, { v: V; hot: boolean }>();
  constructor(max: number, cost: (v: V) => number) {
    this.#max = max;
    this.#cost = cost;
  }
  get(id: string): V | undefined {
    const e = this.#map.get(id);
    if (!e) return undefined;
    e.hot = true;
    return e.v;
  }
  set(id: string, v: V): void {
    if (this.#map.has(id)) return;
    this.#map.set(id, { v, hot: false });
    this.#total += this.#cost(v);
    // Each entry is looked at most twice (once to unmark it), so this ends; the entry just stored is
    // passed over like a marked one, unless it is all that is left.
    while (this.#total > this.#max) {
      const first = this.#map.entries().next();
      if (first.done) break;
      const [k, e] = first.value;
      this.#map.delete(k);
      if ((e.hot || k === id) && this.#map.size > 0) {
        e.hot = false;
        this.#map.set(k, e);
      } else this.#total -= this.#cost(e.v);
    }
  }
  get total(): number {
    return this.#total;
  }
}

/** A bounded cache of raw message bytes by blob id: bodies are immutable, so any relay may cache them. */
export class BodyCache {
  readonly #max: number;
  readonly #cache: SecondChance<Uint8Array>;
  constructor(maxBytes: number) {
    this.#max = maxBytes;
    this.#cache = new SecondChance(maxBytes, (b) => b.length);
  }
  get(id: string): Uint8Array | undefined {
    return this.#cache.get(id);
  }
  set(id: string, bytes: Uint8Array): void {
    if (bytes.length > this.#max / 4) return;
    this.#cache.set(id, bytes);
  }
  get size(): number {
    return this.#cache.total;
  }
}

/**
 * A bounded cache of parsed IMAP views by blob id (ENVELOPE, BODY, BODYSTRUCTURE and the part tree):
 * like bodies they never change, so a client that fetches headers again costs no store call.
 */
export class ViewCache<V extends { env: string; body: string; bs: string }> {
  readonly #cache: SecondChance<V>;
  constructor(maxBytes: number) {
    this.#cache = new SecondChance(maxBytes, (v) => 2 * (v.env.length + v.body.length + v.bs.length) + 256);
  }
  get(id: string): V | undefined {
    return this.#cache.get(id);
  }
  set(id: string, v: V): void {
    this.#cache.set(id, v);
  }
}

/**
 * The last full SELECT state per user and mailbox name. A SELECT sends the snapshot's modseq, and
 * when the mailbox has not moved the edge answers "unchanged" without the per-message state.
 * Bounded by the number of messages held.
 */
export class SelectCache<V extends { messages: unknown[] }> {
  readonly #maxMessages: number;
  #messages = 0;
  readonly #map = new Map<string, V>();
  constructor(maxMessages: number) {
    this.#maxMessages = maxMessages;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    const old = this.#map.get(key);
    if (old) {
      this.#map.delete(key);
      this.#messages -= old.messages.length;
    }
    if (v.messages.length > this.#maxMessages / 4) return;
    this.#map.set(key, v);
    this.#messages += v.messages.length;
    for (const [k, x] of this.#map) {
      if (this.#messages <= this.#maxMessages) break;
      this.#map.delete(k);
      this.#messages -= x.messages.length;
    }
  }
}
