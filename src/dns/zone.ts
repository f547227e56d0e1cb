/**
 * A static zone as a DnsResolver: a small BIND-style zone file, for tests and air-gapped set-ups.
 *
 *   $ORIGIN example.test.        ; names without a trailing dot are relative to it
 *   $TTL 300                     ; accepted and ignored
 *   @            IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
 *   sel._domainkey TXT ( "v=DKIM1; k=rsa; "
 *                        "p=MIIBIjANBg…" )
 *   @            MX 10 mx
 *   _imaps._tcp  SRV 0 1 993 mx
 *   mx           A 192.0.2.1
 *   broken       SERVFAIL        ; any query for this name fails temporarily (SPF/DMARC temperror)
 *   slow         TIMEOUT         ; likewise, as a timeout
 */
import {
  DnsError,
  type DnsResolver,
  type MxRecord,
  normaliseName,
  type RecordType,
  type SrvRecord,
} from "./resolver.ts";

type Rdata = string | string[] | MxRecord | SrvRecord;

export interface Zone {
  records: Map<string, Map<string, Rdata[]>>;
  failures: Map<string, "ESERVFAIL" | "ETIMEOUT">;
}

export class ZoneSyntaxError extends Error {
  constructor(line: number, message: string) {
    super(`zone line ${line}: ${message}`);
    this.name = "ZoneSyntaxError";
  }
}

/** Splits a logical record into tokens, keeping quoted strings (with \" and \\ escapes) whole. */
function tokenize(text: string, line: number): Array<{ value: string; quoted: boolean }> {
  const out: Array<{ value: string; quoted: boolean }> = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ";") break;
    if (/\s/.test(c) || c === "(" || c === ")") {
      i++;
      continue;
    }
    if (c === '"') {
      let value = "";
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (text[i] !== '"') throw new ZoneSyntaxError(line, "unterminated quoted string");
      i++;
      out.push({ value, quoted: true });
      continue;
    }
    let value = "";
    while (i < text.length && !/[\s;()"]/.test(text[i] as string)) value += text[i++];
    out.push({ value, quoted: false });
  }
  return out;
}

/** Joins parenthesised continuation lines into logical records, remembering where each began. */
function logicalRecords(text: string): Array<{ text: string; line: number; indented: boolean }> {
  const out: Array<{ text: string; line: number; indented: boolean }> = [];
  let depth = 0;
  let current: { text: string; line: number; indented: boolean } | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    let inQuote = false;
    let escaped = false;
    let body = "";
    for (const ch of raw) {
      if (escaped) {
        escaped = false;
        body += ch;
        continue;
      }
      if (inQuote && ch === "\\") escaped = true;
      if (ch === '"' && !escaped) inQuote = !inQuote;
      if (!inQuote && ch === ";") break;
      if (!inQuote && ch === "(") depth++;
      if (!inQuote && ch === ")") depth--;
      body += ch;
    }
    if (current) current.text += ` ${body}`;
    else if (body.trim() !== "") current = { text: body, line: index + 1, indented: /^\s/.test(raw) };
    if (depth === 0 && current) {
      out.push(current);
      current = null;
    }
  });
  if (current) throw new ZoneSyntaxError((current as { line: number }).line, "unbalanced parentheses");
  return out;
}

const TYPES = new Set(["A", "AAAA", "TXT", "MX", "CNAME", "PTR", "NS", "SRV", "SERVFAIL", "TIMEOUT"]);

export function parseZone(text: string, defaultOrigin = ""): Zone {
  const zone: Zone = { records: new Map(), failures: new Map() };
  let origin = normaliseName(defaultOrigin);
  let lastName = origin;
  const absolute = (name: string): string => {
    if (name === "@") return origin;
    if (name.endsWith(".")) return normaliseName(name);
    return normaliseName(origin ? `${name}.${origin}` : name);
  };
  for (const rec of logicalRecords(text)) {
    const tokens = tokenize(rec.text, rec.line);
    if (tokens.length === 0) continue;
    const first = tokens[0]!.value;
    if (first.toUpperCase() === "$ORIGIN") {
      origin = normaliseName(tokens[1]?.value ?? "");
      continue;
    }
    if (first.toUpperCase() === "$TTL") continue;
    let i = 0;
    let name = lastName;
    if (!rec.indented) {
      name = absolute(first);
      i = 1;
    }
    lastName = name;
    // Optional TTL and class, in either order.
    while (i < tokens.length && (/^\d+$/.test(tokens[i]!.value) || /^(IN|CH|HS)$/i.test(tokens[i]!.value)))
      i++;
    const type = tokens[i]?.value.toUpperCase();
    if (!type || !TYPES.has(type))
      throw new ZoneSyntaxError(
        rec.line,
        `unknown or missing record type ${JSON.stringify(tokens[i]?.value ?? "")}`,
      );
    const rdata = tokens.slice(i + 1);
    if (type === "SERVFAIL" || type === "TIMEOUT") {
      zone.failures.set(name, type === "SERVFAIL" ? "ESERVFAIL" : "ETIMEOUT");
      continue;
    }
    let value: Rdata;
    switch (type) {
      case "TXT":
        if (rdata.length === 0) throw new ZoneSyntaxError(rec.line, "TXT needs at least one string");
        value = rdata.map((t) => t.value);
        break;
      case "MX": {
        const priority = Number(rdata[0]?.value);
        if (!Number.isInteger(priority) || !rdata[1])
          throw new ZoneSyntaxError(rec.line, "MX needs a priority and a host");
        value = { priority, exchange: absolute(rdata[1].value) };
        break;
      }
      case "SRV": {
        const [priority, weight, port] = rdata.slice(0, 3).map((t) => Number(t.value));
        if (![priority, weight, port].every((n) => Number.isInteger(n)) || !rdata[3])
          throw new ZoneSyntaxError(rec.line, "SRV needs priority, weight, port and target");
        value = {
          priority: priority as number,
          weight: weight as number,
          port: port as number,
          name: rdata[3].value === "." ? "" : absolute(rdata[3].value),
        };
        break;
      }
      case "CNAME":
      case "PTR":
      case "NS":
        if (!rdata[0]) throw new ZoneSyntaxError(rec.line, `${type} needs a target`);
        value = absolute(rdata[0].value);
        break;
      default:
        if (!rdata[0]) throw new ZoneSyntaxError(rec.line, `${type} needs an address`);
        value = rdata[0].value;
    }
    const byType = zone.records.get(name) ?? new Map<string, Rdata[]>();
    zone.records.set(name, byType);
    byType.set(type, [...(byType.get(type) ?? []), value]);
  }
  return zone;
}

export function zoneResolver(zone: Zone): DnsResolver {
  const lookup = async (name: string, rrtype: RecordType, depth: number): Promise<Rdata[]> => {
    const n = normaliseName(name);
    const failure = zone.failures.get(n);
    if (failure) throw new DnsError(failure, n, rrtype);
    const byType = zone.records.get(n);
    if (!byType) throw new DnsError("ENOTFOUND", n, rrtype);
    const direct = byType.get(rrtype);
    if (direct) return direct;
    const cname = byType.get("CNAME");
    if (cname && rrtype !== "CNAME" && depth < 8) return lookup(String(cname[0]), rrtype, depth + 1);
    throw new DnsError("ENODATA", n, rrtype);
  };
  return async (name, rrtype) => (await lookup(name, rrtype, 0)) as never;
}
