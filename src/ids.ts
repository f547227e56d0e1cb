/** Time-sortable 26-character identifiers (ULID layout: 48-bit ms time + 80 random bits, Crockford base32). */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * Random bytes fetched 4 KiB at a time: one getRandomValues call per 256 ids, not one per id (each call
 * cost more than building the id). Filled on first use, never at module load (Workers allow random
 * values only while handling a request).
 */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

export function newId(now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  if (poolAt + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  let rand = "";
  for (let i = poolAt; i < poolAt + 16; i++) rand += ALPHABET[(pool[i] as number) % 32];
  poolAt += 16;
  return time + rand;
}
