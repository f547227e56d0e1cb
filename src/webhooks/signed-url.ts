/**
 * Expiring, signed download links for webhook receivers (the raw message, large attachments):
 * `?exp=<unix seconds>&sig=<base64url HMAC-SHA256 of "path\nexp">`. Anything altered or expired → 403.
 */
import { fromBase64Url, toBase64Url } from "../encoding.ts";

const enc = new TextEncoder();

/** The key download links are signed with, derived from the relay secret wherever links are made or checked. */
export function filesSigningKey(relaySecret: string): string {
  return `${relaySecret}:files`;
}

async function hmac(secret: string, text: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
}

export async function signPath(secret: string, path: string, expiresAt: number): Promise<string> {
  const exp = Math.floor(expiresAt / 1000);
  return `${path}?exp=${exp}&sig=${toBase64Url(await hmac(secret, `${path}\n${exp}`))}`;
}

export async function verifySignedPath(secret: string, url: URL, now: number = Date.now()): Promise<boolean> {
  const exp = Number(url.searchParams.get("exp"));
  const sig = url.searchParams.get("sig") ?? "";
  if (!Number.isInteger(exp) || exp * 1000 < now) return false;
  let given: Uint8Array;
  try {
    given = fromBase64Url(sig);
  } catch {
    return false;
  }
  const expected = await hmac(secret, `${url.pathname}\n${exp}`);
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= (given[i] ?? 0) ^ (expected[i] ?? 0);
  return diff === 0;
}
