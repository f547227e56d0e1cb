/**
 * Workers compatibility: node's crypto.verify() accepts OpenSSL's combined names such as "rsa-sha256",
 * which mailauth passes for RSA DKIM signatures; the Workers runtime only knows the digest ("sha256")
 * and reports "Unknown digest". This maps the combined names to the digest once, at Worker start-up.
 * (Found by test/workers/auth.test.ts, which verifies the same signed corpus as the Node tests.)
 */
import crypto from "node:crypto";

const DIGESTS: Record<string, string> = {
  "rsa-sha256": "sha256",
  "rsa-sha1": "sha1",
  "rsa-sha512": "sha512",
};
const verify = crypto.verify;
const patched = ((algorithm: string | null | undefined, ...rest: unknown[]) =>
  (verify as (...a: unknown[]) => boolean)(
    typeof algorithm === "string" ? (DIGESTS[algorithm.toLowerCase()] ?? algorithm) : algorithm,
    ...rest,
  )) as typeof crypto.verify;
try {
  crypto.verify = patched;
} catch {
  Object.defineProperty(crypto, "verify", { value: patched, configurable: true, writable: true });
}
