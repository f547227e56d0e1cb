/** The two PROXY protocol signatures and prefix classification. */

/** `PROXY ` — the v1 signature including its separating space. */
export const V1_SIGNATURE: Uint8Array = new Uint8Array([0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]);

/** `\r\n\r\n\0\r\nQUIT\n` — the 12-byte v2 signature. */
export const V2_SIGNATURE: Uint8Array = new Uint8Array([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** The longest signature: enough bytes to classify any prefix. */
export const SIGNATURE_PEEK_BYTES = V2_SIGNATURE.length;

/** Which signature a first byte can start, or null when it starts neither. */
export function signatureFor(firstByte: number): Uint8Array | null {
  if (firstByte === V1_SIGNATURE[0]) return V1_SIGNATURE;
  if (firstByte === V2_SIGNATURE[0]) return V2_SIGNATURE;
  return null;
}

/**
 * Classifies the first bytes of a stream:
 * `v1`/`v2` when a full signature is present, `partial` when the bytes are a proper prefix of one,
 * `none` when they can no longer match either.
 */
export function classifyPrefix(bytes: Uint8Array): "v1" | "v2" | "partial" | "none" {
  if (bytes.length === 0) return "partial";
  const signature = signatureFor(bytes[0]!);
  if (signature === null) return "none";
  const n = Math.min(bytes.length, signature.length);
  for (let i = 1; i < n; i++) if (bytes[i] !== signature[i]) return "none";
  if (n < signature.length) return "partial";
  return signature === V1_SIGNATURE ? "v1" : "v2";
}
