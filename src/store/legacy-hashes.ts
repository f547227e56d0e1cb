/**
 * Verifiers for password hashes imported from other mail servers (Dovecot passwd-file): bcrypt
 * (`$2a$`/`$2b$`/`$2y$`), SHA-crypt (`$5$` SHA256-CRYPT, `$6$` SHA512-CRYPT) and Argon2id. All pure JS
 * (bcryptjs, @noble/hashes), so they run on Workers as well as Node and Deno. New hashes are never made
 * in these schemes: a user who logs in with one is re-hashed to PBKDF2 (see Directory.authenticate).
 */
import { argon2idAsync } from "@noble/hashes/argon2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import bcrypt from "bcryptjs";
import { fromBase64 } from "../encoding.ts";

export type LegacyScheme = "bcrypt" | "sha256-crypt" | "sha512-crypt" | "argon2id";

/** The scheme of a crypt(3)-style string, or null when it is none of the imported ones. */
export function legacyScheme(stored: string): LegacyScheme | null {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(stored)) return "bcrypt";
  if (/^\$5\$(rounds=\d+\$)?[^$]{0,16}\$[./A-Za-z0-9]{43}$/.test(stored)) return "sha256-crypt";
  if (/^\$6\$(rounds=\d+\$)?[^$]{0,16}\$[./A-Za-z0-9]{86}$/.test(stored)) return "sha512-crypt";
  if (/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(stored)) return "argon2id";
  return null;
}

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `n` bytes made by repeating `block` (the P and S sequences of the SHA-crypt specification). */
function repeatTo(block: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = block[i % block.length] as number;
  return out;
}

function encode24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = "";
  for (let i = 0; i < n; i++) {
    s += ITOA64[w & 0x3f];
    w >>>= 6;
  }
  return s;
}

/** The crypt(3) SHA-256/SHA-512 algorithm (Drepper's specification), returning the encoded digest. */
export function shaCryptDigest(
  variant: 5 | 6,
  password: Uint8Array,
  salt: Uint8Array,
  rounds: number,
): string {
  const H = variant === 5 ? sha256 : sha512;
  const size = variant === 5 ? 32 : 64;
  const P = password;
  const S = salt;
  const B = H(concat([P, S, P]));
  const aParts: Uint8Array[] = [P, S];
  let cnt = P.length;
  for (; cnt > size; cnt -= size) aParts.push(B);
  aParts.push(B.subarray(0, cnt));
  for (cnt = P.length; cnt > 0; cnt >>= 1) aParts.push(cnt & 1 ? B : P);
  let C = H(concat(aParts));
  const DP = H(repeatTo(P, P.length * P.length));
  const Pseq = repeatTo(DP, P.length);
  const DS = H(repeatTo(S, S.length * (16 + (C[0] as number))));
  const Sseq = DS.subarray(0, S.length);
  for (let i = 0; i < rounds; i++) {
    const parts: Uint8Array[] = [i & 1 ? Pseq : C];
    if (i % 3 !== 0) parts.push(Sseq);
    if (i % 7 !== 0) parts.push(Pseq);
    parts.push(i & 1 ? C : Pseq);
    C = H(concat(parts));
  }
  const c = (i: number) => C[i] as number;
  let out = "";
  if (variant === 5) {
    for (let k = 0; k < 10; k++) {
      const [x, y, z] =
        k % 3 === 0 ? [k, k + 10, k + 20] : k % 3 === 1 ? [k + 20, k, k + 10] : [k + 10, k + 20, k];
      out += encode24(c(x), c(y), c(z), 4);
    }
    out += encode24(0, c(31), c(30), 3);
  } else {
    for (let k = 0; k < 21; k++) {
      const [x, y, z] =
        k % 3 === 0 ? [k, k + 21, k + 42] : k % 3 === 1 ? [k + 21, k + 42, k] : [k + 42, k, k + 21];
      out += encode24(c(x), c(y), c(z), 4);
    }
    out += encode24(0, 0, c(63), 2);
  }
  return out;
}

/** Parses `$5$[rounds=N$]salt$hash` / `$6$…` and recomputes it. */
function verifyShaCrypt(password: string, stored: string): boolean {
  const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]{0,16})\$([./A-Za-z0-9]+)$/.exec(stored);
  if (!m) return false;
  const requested = m[2] === undefined ? 5000 : Number(m[2]);
  // The specification clamps rounds to [1000, 999999999].
  const rounds = Math.min(Math.max(requested, 1000), 999_999_999);
  const enc = new TextEncoder();
  const digest = shaCryptDigest(m[1] === "5" ? 5 : 6, enc.encode(password), enc.encode(m[3] ?? ""), rounds);
  return constantTimeText(digest, m[4] ?? "");
}

function constantTimeText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  return diff === 0;
}

/** Argon2id in the PHC format Dovecot and libargon2 write: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
async function verifyArgon2id(password: string, stored: string): Promise<boolean> {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!m) return false;
  const [mem, t, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Refuse parameters that would let one stored row exhaust a Worker (128 MB) or take minutes.
  if (mem > 96 * 1024 || t > 16 || p > 8) return false;
  const expected = fromBase64(m[5] ?? "");
  const actual = await argon2idAsync(password, fromBase64(m[4] ?? ""), {
    m: mem,
    t,
    p,
    version: 0x13,
    dkLen: expected.length,
  });
  let diff = actual.length ^ expected.length;
  for (let i = 0; i < actual.length; i++) diff |= (actual[i] as number) ^ (expected[i] ?? 0);
  return diff === 0;
}

export async function verifyLegacy(password: string, stored: string): Promise<boolean> {
  switch (legacyScheme(stored)) {
    case "bcrypt":
      // bcryptjs reads $2y$ (PHP/Dovecot) as $2b$; both are the fixed algorithm.
      return bcrypt.compare(password, stored.replace(/^\$2y\$/, "$2b$"));
    case "sha256-crypt":
    case "sha512-crypt":
      return verifyShaCrypt(password, stored);
    case "argon2id":
      return verifyArgon2id(password, stored);
    default:
      return false;
  }
}
