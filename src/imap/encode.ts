/**
 * Serialises IMAP response data: NIL, numbers, strings (quoted when safe, else literal), lists.
 * Values are built as trees and written as byte chunks, so message bodies are never re-encoded.
 */

export type ImapValue =
  | null
  | number
  | string
  | Uint8Array
  | { atom: string }
  | { literal: Uint8Array }
  | ImapValue[];

const encoder = new TextEncoder();

export function atom(value: string): { atom: string } {
  return { atom: value };
}

function quotable(s: string): boolean {
  if (s.length > 1024) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0 || c > 0x7e) return false;
  }
  return true;
}

/** Appends the wire form of `v` to `out` (strings and byte arrays as chunks). */
export function encodeValue(v: ImapValue, out: Array<string | Uint8Array>): void {
  if (v === null) out.push("NIL");
  else if (typeof v === "number") out.push(String(v));
  else if (typeof v === "string") {
    if (quotable(v)) out.push(`"${v.replace(/["\\]/g, (m) => `\\${m}`)}"`);
    else {
      const bytes = encoder.encode(v);
      out.push(`{${bytes.length}}\r\n`, bytes);
    }
  } else if (v instanceof Uint8Array) out.push(`{${v.length}}\r\n`, v);
  else if (Array.isArray(v)) {
    out.push("(");
    v.forEach((item, i) => {
      if (i > 0) out.push(" ");
      encodeValue(item, out);
    });
    out.push(")");
  } else if ("atom" in v) out.push(v.atom);
  else out.push(`{${v.literal.length}}\r\n`, v.literal);
}

export function encodeToString(v: ImapValue): string {
  const out: Array<string | Uint8Array> = [];
  encodeValue(v, out);
  const dec = new TextDecoder();
  return out.map((c) => (typeof c === "string" ? c : dec.decode(c))).join("");
}

/** A mailbox name or other astring argument, quoted or literal as needed. */
export function astring(s: string): string {
  return encodeToString(s);
}
