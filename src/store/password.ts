/**
 * Password hashing with PBKDF2-HMAC-SHA256 via WebCrypto, so the same code runs on Workers, Node and Deno.
 * Workers cap PBKDF2 at 100,000 iterations, which is what new hashes use. The PHC-like format
 * `$pbkdf2-sha256$i=<iterations>$<salt b64>$<hash b64>` records its parameters, so they can change later.
 */
import { fromBase64, toBase64 } from "../encoding.ts";
import { legacyScheme, verifyLegacy } from "./legacy-hashes.ts";

const ITERATIONS = 100_000;
const SCHEME = "pbkdf2-sha256";

/** Unpadded standard base64, as PHC strings write it. */
function b64(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/=+$/, "");
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, ITERATIONS);
  return `$${SCHEME}$i=${ITERATIONS}$${b64(salt)}$${b64(hash)}`;
}

/** Constant-time comparison of two byte strings of possibly different lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function timingSafeEqualText(a: string, b: string): boolean {
  const enc = new TextEncoder();
  return timingSafeEqual(enc.encode(a), enc.encode(b));
}

/** True for an imported scheme (bcrypt, SHA-crypt, Argon2id) or old parameters: re-hash after a good login. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith(`$${SCHEME}$i=${ITERATIONS}$`);
}

/** True when `stored` is a hash this server can verify (its own PBKDF2 or an imported scheme). */
export function isVerifiableHash(stored: string): boolean {
  return (
    /^\$pbkdf2-sha256\$i=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(stored) || legacyScheme(stored) !== null
  );
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (!stored.startsWith(`$${SCHEME}$`)) return verifyLegacy(password, stored);
  const parts = stored.split("$");
  // ["", scheme, "i=N", salt, hash]
  if (parts.length !== 5 || parts[1] !== SCHEME) return false;
  const iterations = Number(parts[2]?.slice(2));
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > ITERATIONS) return false;
  const expected = fromBase64(parts[4] ?? "");
  const actual = await derive(password, fromBase64(parts[3] ?? ""), iterations);
  return timingSafeEqual(actual, expected);
}
