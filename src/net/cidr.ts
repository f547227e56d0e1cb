/**
 * CIDR lists for the trusted-proxy policy.
 * A bare address means a single host (/32 or /128). An IPv4-mapped IPv6 CIDR (`::ffff:10.0.0.0/104`)
 * is stored as the IPv4 CIDR it covers, and IPv4-mapped peers are matched as IPv4, so
 * `::ffff:127.0.0.1` matches `127.0.0.0/8`. `::/0` matches IPv6 peers only.
 */
import { formatIp, parseComparableIp, parseIp, unmapIPv4 } from "./ip.ts";

export interface Cidr {
  family: 4 | 6;
  /** Network address, 4 or 16 bytes, host bits zero. */
  network: Uint8Array;
  prefix: number;
  /** Canonical text, e.g. `10.0.0.0/8`. */
  text: string;
}

export class CidrError extends Error {
  override name = "CidrError";
}

const PREFIX = /^(?:0|[1-9][0-9]{0,2})$/;

function hostBitsSet(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return true;
  }
  return false;
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** Parses one CIDR (or bare address). Throws CidrError with a message naming the entry. */
export function parseCidr(input: string): Cidr {
  const text = input.trim();
  const fail = (why: string): never => {
    throw new CidrError(`invalid CIDR "${input}": ${why}`);
  };
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIp(addressText);
  if (address === null) {
    return fail(addressText.includes("%") ? "zone ids are not allowed" : "not an IPv4 or IPv6 address");
  }
  const width = address.family === 4 ? 32 : 128;
  let prefix = width;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!PREFIX.test(prefixText)) return fail("prefix length must be a decimal number");
    prefix = Number(prefixText);
    if (prefix > width) return fail(`prefix length must be 0-${width} for IPv${address.family}`);
  }
  if (hostBitsSet(address.bytes, prefix)) {
    const network = formatIp({ family: address.family, bytes: masked(address.bytes, prefix) });
    return fail(`host bits are set (did you mean ${network}/${prefix}?)`);
  }
  const v4 = address.family === 6 && prefix >= 96 ? unmapIPv4(address.bytes) : null;
  if (v4 !== null)
    return {
      family: 4,
      network: v4,
      prefix: prefix - 96,
      text: `${formatIp({ family: 4, bytes: v4 })}/${prefix - 96}`,
    };
  return { family: address.family, network: address.bytes, prefix, text: `${formatIp(address)}/${prefix}` };
}

/** Parses a list; the error message names the offending entry and its position. */
export function parseCidrList(entries: readonly string[]): Cidr[] {
  return entries.map((entry, index) => {
    try {
      return parseCidr(entry);
    } catch (error) {
      if (error instanceof CidrError) throw new CidrError(`trusted[${index}]: ${error.message}`);
      throw error;
    }
  });
}

function contains(cidr: Cidr, bytes: Uint8Array): boolean {
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== cidr.network[i]) return false;
  const bits = cidr.prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (bytes[whole]! & mask) === cidr.network[whole];
}

/** True when `address` (textual, IPv4-mapped allowed) lies inside `cidr`. Unparseable addresses never match. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  const ip = parseComparableIp(address);
  return ip !== null && ip.family === cidr.family && contains(cidr, ip.bytes);
}

/** True when `address` lies inside any of `cidrs`. */
export function matchesAnyCidr(cidrs: readonly Cidr[], address: string): boolean {
  const ip = parseComparableIp(address);
  if (ip === null) return false;
  return cidrs.some((cidr) => cidr.family === ip.family && contains(cidr, ip.bytes));
}
