/**
 * DKIM key pairs made with WebCrypto (so `dkim generate` works on Workers too), and the envelope that
 * keeps private keys encrypted at rest: AES-256-GCM under a key derived (HKDF-SHA256) from a secret
 * (the Worker secret DKIM_KEY, or MXEDGE_DKIM_KEY / <data>/dkim.key when embedded). The key's domain
 * and selector are bound as associated data, so a ciphertext cannot be moved to another key row.
 */

import { fromBase64, toBase64 } from "../encoding.ts";
import type { DkimAlgorithm } from "../store/schema.ts";

export const DKIM_ALGORITHMS: readonly DkimAlgorithm[] = ["rsa-2048", "ed25519"];

export interface DkimKeyPair {
  algorithm: DkimAlgorithm;
  /** PKCS#8 PEM, as mailauth's dkimSign and OpenSSL take it. */
  privateKeyPem: string;
  /** The `p=` value: SPKI DER for RSA (RFC 6376), the raw 32-byte key for Ed25519 (RFC 8463). */
  publicKey: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = toBase64(new Uint8Array(der));
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}

export async function generateDkimKey(algorithm: DkimAlgorithm): Promise<DkimKeyPair> {
  if (algorithm === "ed25519") {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ])) as unknown as KeyPair;
    const priv = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
    const raw = (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer;
    return { algorithm, privateKeyPem: pem("PRIVATE KEY", priv), publicKey: toBase64(new Uint8Array(raw)) };
  }
  const pair = (await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  )) as unknown as KeyPair;
  const priv = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
  const spki = (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
  return { algorithm, privateKeyPem: pem("PRIVATE KEY", priv), publicKey: toBase64(new Uint8Array(spki)) };
}

/** The DKIM TXT record's value for a public key. */
export function dkimRecordValue(algorithm: DkimAlgorithm, publicKey: string): string {
  return `v=DKIM1; k=${algorithm === "ed25519" ? "ed25519" : "rsa"}; p=${publicKey}`;
}

const ENVELOPE = "v1";

type CryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function wrappingKey(secret: string): Promise<CryptoKey> {
  if (secret.length < 16) throw new Error("the DKIM key-encryption secret must be at least 16 characters");
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new TextEncoder().encode("mxedge dkim"),
      info: new TextEncoder().encode("private key encryption v1"),
    },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

const aad = (domain: string, selector: string) => new TextEncoder().encode(`${domain}/${selector}`);

/** `v1:<iv b64>:<ciphertext+tag b64>` */
export async function encryptPrivateKey(
  privateKeyPem: string,
  secret: string,
  domain: string,
  selector: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aad(domain, selector) },
    await wrappingKey(secret),
    new TextEncoder().encode(privateKeyPem),
  );
  return `${ENVELOPE}:${toBase64(iv)}:${toBase64(new Uint8Array(ct))}`;
}

export async function decryptPrivateKey(
  envelope: string,
  secret: string,
  domain: string,
  selector: string,
): Promise<string> {
  const [version, iv, ct] = envelope.split(":");
  if (version !== ENVELOPE || !iv || !ct) throw new Error("unknown DKIM private key envelope");
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: fromBase64(iv) as Uint8Array<ArrayBuffer>,
        additionalData: aad(domain, selector),
      },
      await wrappingKey(secret),
      fromBase64(ct) as Uint8Array<ArrayBuffer>,
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new Error(`cannot decrypt the DKIM key ${selector} of ${domain}: wrong key-encryption secret?`);
  }
}

/** A selector for a new key: `mYYYYMM`, with a letter added when that one is taken. */
export function nextSelector(taken: readonly string[], now: number): string {
  const d = new Date(now);
  const base = `m${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
  if (!taken.includes(base)) return base;
  for (const letter of "bcdefghijklmnopqrstuvwxyz") if (!taken.includes(base + letter)) return base + letter;
  return `${base}-${Math.floor(now / 1000)}`;
}
