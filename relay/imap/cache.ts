/** A bounded LRU of raw message bytes by blob id: bodies are immutable, so any relay may cache them. */
export class BodyCache {
  readonly #max: number;
  #bytes = 0;
  readonly #map = new Map<string, Uint8Array>();
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }
  get(id: string): Uint8Array | undefined {
    const v = this.#map.get(id);
    if (v) {
      this.#map.delete(id);
      this.#map.set(id, v);
    }
    return v;
  }
  set(id: string, bytes: Uint8Array): void {
    if (bytes.length > this.#max / 4 || this.#map.has(id)) return;
    this.#map.set(id, bytes);
    this.#bytes += bytes.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.#max) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }
  get size(): number {
    return this.#bytes;
  }
}

/**
 * A bounded LRU of parsed IMAP views by blob id (ENVELOPE, BODY, BODYSTRUCTURE and the part tree):
 * like bodies they never change, so a client that fetches headers again costs no store call.
 */
export class ViewCache<V extends { env: string; body: string; bs: string }> {
  readonly #max: number;
  #bytes = 0;
  readonly #map = new Map<string, V>();
  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }
  static #cost(v: { env: string; body: string; bs: string }): number {
    return 2 * (v.env.length + v.body.length + v.bs.length) + 256;
  }
  get(id: string): V | undefined {
    const v = this.#map.get(id);
    if (v) {
      this.#map.delete(id);
      this.#map.set(id, v);
    }
    return v;
  }
  set(id: string, v: V): void {
    if (this.#map.has(id)) return;
    this.#map.set(id, v);
    this.#bytes += ViewCache.#cost(v);
    for (const [k, old] of this.#map) {
      if (this.#bytes <= this.#max) break;
      this.#map.delete(k);
      this.#bytes -= ViewCache.#cost(old);
    }
  }
}
