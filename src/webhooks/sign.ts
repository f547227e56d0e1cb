/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the headers `webhook-id`,
 * `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `${id}.${timestamp}.${body}`, keyed with the secret's bytes (`whsec_<base64>`). WebCrypto only, so the
 * same code signs on Workers and verifies in any receiver (`import { verifyWebhook } from "mxedge/webhooks"`).
 */
import { fromBase64, toBase64 } from "../encoding.ts";

const enc = new TextEncoder();

/** A fresh `whsec_` secret with 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

async function key(secret: string): Promise<Awaited<ReturnType<typeof crypto.subtle.importKey>>> {
  const raw = fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  return crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function signedContent(id: string, timestamp: number, body: Uint8Array | string): Uint8Array {
  const head = enc.encode(`${id}.${timestamp}.`);
  const payload = typeof body === "string" ? enc.encode(body) : body;
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

export async function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: Uint8Array | string,
): Promise<WebhookHeaders> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await key(secret),
    signedContent(id, timestamp, body) as Uint8Array<ArrayBuffer>,
  );
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${toBase64(new Uint8Array(mac))}`,
  };
}

export type VerifyResult =
  | { ok: true }
  | { ok: false; reason: "missing-headers" | "timestamp" | "signature" };

/**
 * Verifies a delivery: any `v1,` signature in the (space-separated) header must match, and the timestamp
 * must be within `toleranceSeconds` (default 5 minutes) of `now`, which stops replays.
 */
export async function verifyWebhook(
  secret: string,
  headers: { get(name: string): string | null },
  body: Uint8Array | string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): Promise<VerifyResult> {
  const id = headers.get("webhook-id");
  const ts = headers.get("webhook-timestamp");
  const sig = headers.get("webhook-signature");
  if (!id || !ts || !sig) return { ok: false, reason: "missing-headers" };
  const timestamp = Number(ts);
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > (opts.toleranceSeconds ?? 300)) {
    return { ok: false, reason: "timestamp" };
  }
  const k = await key(secret);
  const content = signedContent(id, timestamp, body) as Uint8Array<ArrayBuffer>;
  for (const part of sig.split(" ")) {
    const [version, value] = part.split(",", 2);
    if (version !== "v1" || !value) continue;
    let mac: Uint8Array;
    try {
      mac = fromBase64(value);
    } catch {
      continue;
    }
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", k, mac as Uint8Array<ArrayBuffer>, content)) return { ok: true };
  }
  return { ok: false, reason: "signature" };
}
