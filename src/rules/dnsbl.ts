/**
 * DNSBL/RHSBL lookups: the client IP (reversed, nibbles for IPv6), the HELO name or the sender domain,
 * under each configured zone, with Postfix-style return-code filters: `zone=127.0.0.[2..11]`,
 * `zone=127.0.0.2`, `zone=127.0.0.[2;4;10..11]`.
 */
import type { DnsResolver } from "../dns/resolver.ts";
import { isTemporaryDnsError } from "../dns/resolver.ts";
import { parseIp } from "../net/ip.ts";
import type { DnsblConfig } from "./schema.ts";

export interface DnsblList {
  zone: string;
  check: DnsblConfig["check"];
  /** Per octet, the values a listing reply may have; null accepts any 127.0.0.0/8 answer. */
  filter: Array<Set<number>> | null;
  spec: string;
}

export interface DnsblHit {
  zone: string;
  query: string;
  answer: string;
}

export interface DnsblResult {
  hits: DnsblHit[];
  /** A list could not be asked (timeout, SERVFAIL): treated as not listed, but recorded. */
  errors: string[];
}

function octetSet(spec: string): Set<number> {
  const out = new Set<number>();
  const body = spec.startsWith("[") && spec.endsWith("]") ? spec.slice(1, -1) : spec;
  for (const part of body.split(";")) {
    const range = /^(\d{1,3})\.\.(\d{1,3})$/.exec(part);
    const lo = Number(range ? range[1] : part);
    const hi = Number(range ? range[2] : part);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi || hi > 255 || part === "") {
      throw new RangeError(`bad return-code pattern ${JSON.stringify(spec)}`);
    }
    for (let v = lo; v <= hi; v++) out.add(v);
  }
  return out;
}

export function parseDnsbl(cfg: DnsblConfig): DnsblList {
  const [zone = "", pattern] = cfg.zone.split("=", 2);
  let filter: Array<Set<number>> | null = null;
  if (pattern !== undefined) {
    const octets = pattern.match(/\[[^\]]*\]|[^.]+/g) ?? [];
    if (octets.length !== 4)
      throw new RangeError(`return-code filter needs four octets: ${JSON.stringify(pattern)}`);
    filter = octets.map(octetSet);
  }
  return { zone: zone.toLowerCase().replace(/\.$/, ""), check: cfg.check, filter, spec: cfg.zone };
}

/** The name to look up under a DNSBL for an address: 1.2.3.4 → 4.3.2.1; IPv6 → 32 reversed nibbles. */
export function reverseIp(address: string): string | null {
  const ip = parseIp(address);
  if (!ip) return null;
  if (ip.family === 4) return [...ip.bytes].reverse().join(".");
  return Array.from(ip.bytes)
    .flatMap((b) => [b >> 4, b & 15])
    .reverse()
    .map((n) => n.toString(16))
    .join(".");
}

function matches(list: DnsblList, answer: string): boolean {
  const parts = answer.split(".").map(Number);
  if (parts.length !== 4 || parts[0] !== 127) return false;
  return list.filter ? list.filter.every((set, i) => set.has(parts[i]!)) : true;
}

export async function checkDnsbls(
  lists: DnsblList[],
  subject: { ip: string; helo: string; senderDomain: string | null },
  resolver: DnsResolver,
): Promise<DnsblResult> {
  const result: DnsblResult = { hits: [], errors: [] };
  await Promise.all(
    lists.map(async (list) => {
      const key =
        list.check === "ip"
          ? reverseIp(subject.ip)
          : list.check === "helo"
            ? subject.helo
            : subject.senderDomain;
      if (!key) return;
      const query = `${key.replace(/\.$/, "")}.${list.zone}`;
      try {
        const answers = (await resolver(query, "A")) as string[];
        const hit = answers.find((a) => matches(list, a));
        if (hit) result.hits.push({ zone: list.zone, query, answer: hit });
      } catch (err) {
        if (isTemporaryDnsError(err)) result.errors.push(`${list.zone}: ${(err as Error).message}`);
      }
    }),
  );
  return result;
}
