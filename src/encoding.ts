/** Each byte as one char code 0-255, so any bytes survive a round trip through a string. */
export function latin1String(bytes: Uint8Array): string {
  // apply() takes the typed array as it is; spreading it first (…bytes) was ten times slower.
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x1000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x1000) as unknown as number[]);
  }
  return s;
}

/** The inverse of latin1String. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Standard, padded base64 over bytes; runtime-neutral (btoa/atob exist on Workers, Node and Deno). */
export function toBase64(bytes: Uint8Array): string {
  return btoa(latin1String(bytes));
}

/** Standard base64 (padding optional) to bytes; throws on anything else. */
export function fromBase64(text: string): Uint8Array {
  return latin1Bytes(atob(text));
}

/** base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return fromBase64(b64 + "===".slice((b64.length + 3) % 4));
}

export function concatBytes(parts: Uint8Array[], total?: number): Uint8Array {
  const size = total ?? parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
