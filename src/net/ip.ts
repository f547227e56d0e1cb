/**
 * Strict textual IP address parsing and canonical formatting.
 * IPv4: dotted quad, no leading zeros. IPv6: RFC 4291 text (with `::` and a trailing dotted quad), no zone id.
 * Output is canonical: lowercase RFC 5952 for IPv6, and IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes `a.b.c.d`.
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!OCTET.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    out[i] = value;
  }
  return out;
}

function parseGroups(groups: string[], allowTrailingIPv4: boolean): number[] | null {
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (allowTrailingIPv4 && i === groups.length - 1 && group.includes(".")) {
      const v4 = parseIPv4(group);
      if (v4 === null) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!HEX_GROUP.test(group)) return null;
      words.push(Number.parseInt(group, 16));
    }
  }
  return words;
}

export function parseIPv6(text: string): Uint8Array | null {
  // Longest form: 7 full groups and a dotted quad.
  if (text.length < 2 || text.length > 45) return null;
  const gap = text.indexOf("::");
  let words: number[];
  if (gap < 0) {
    const parsed = parseGroups(text.split(":"), true);
    if (parsed === null || parsed.length !== 8) return null;
    words = parsed;
  } else {
    if (text.indexOf("::", gap + 1) >= 0) return null;
    const head = text.slice(0, gap);
    const tail = text.slice(gap + 2);
    const headWords = head === "" ? [] : parseGroups(head.split(":"), false);
    const tailWords = tail === "" ? [] : parseGroups(tail.split(":"), true);
    if (headWords === null || tailWords === null) return null;
    const missing = 8 - headWords.length - tailWords.length;
    // `::` stands for at least one zero group.
    if (missing < 1) return null;
    words = [...headWords, ...new Array<number>(missing).fill(0), ...tailWords];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

export function parseIp(text: string): IpAddress | null {
  if (text.includes(":")) {
    const bytes = parseIPv6(text);
    return bytes === null ? null : { family: 6, bytes };
  }
  const bytes = parseIPv4(text);
  return bytes === null ? null : { family: 4, bytes };
}

/** The embedded IPv4 address of `::ffff:a.b.c.d`, else null. */
export function unmapIPv4(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length !== 16) return null;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return null;
  return bytes.slice(12, 16);
}

export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** RFC 5952 text; an IPv4-mapped address is rendered as plain IPv4. */
export function formatIPv6(bytes: Uint8Array): string {
  const mapped = unmapIPv4(bytes);
  if (mapped !== null) return formatIPv4(mapped);
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(":");
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

export function formatIp(address: IpAddress): string {
  return address.family === 4 ? formatIPv4(address.bytes) : formatIPv6(address.bytes);
}

/** Canonical form of a textual address (IPv4-mapped becomes IPv4); unparseable input is returned unchanged. */
export function normaliseAddress(text: string): string {
  const parsed = parseIp(text);
  return parsed === null ? text : formatIp(parsed);
}

/** Parses an address for matching: IPv4-mapped IPv6 is returned as IPv4. */
export function parseComparableIp(text: string): IpAddress | null {
  const parsed = parseIp(text);
  if (parsed === null || parsed.family === 4) return parsed;
  const mapped = unmapIPv4(parsed.bytes);
  return mapped === null ? parsed : { family: 4, bytes: mapped };
}
