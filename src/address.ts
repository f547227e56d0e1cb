/** Envelope address helpers. Domains compare case-insensitively; local parts are folded to lower case. */
export interface ParsedAddress {
  local: string;
  domain: string;
}

/** Splits `local@domain` at the last `@`. Returns null for anything without both parts. */
export function parseAddress(address: string): ParsedAddress | null {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return null;
  const local = address.slice(0, at).toLowerCase();
  const domain = address
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, "");
  if (!/^[a-z0-9.-]+$/.test(domain) && !/^\[.*\]$/.test(domain)) {
    // Non-ASCII (U-label) domains are accepted as given; IDNA mapping is the caller's job.
    if (/[\s@]/.test(domain)) return null;
  }
  return { local, domain };
}

export function formatAddress(a: ParsedAddress): string {
  return `${a.local}@${a.domain}`;
}

/** `user+tag` → `{ base: "user", tag: "tag" }`. */
export function splitPlus(local: string): { base: string; tag: string | null } {
  const i = local.indexOf("+");
  if (i <= 0) return { base: local, tag: null };
  return { base: local.slice(0, i), tag: local.slice(i + 1) };
}
