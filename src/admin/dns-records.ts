/**
 * The DNS records a domain needs (`mxedge dns <domain>`), as a ready-to-paste zone file, and the check
 * of what is live against them (`mxedge dns check <domain>`) through the DnsResolver interface.
 */
import {
  type DnsResolver,
  isTemporaryDnsError,
  type MxRecord,
  normaliseName,
  type SrvRecord,
} from "../dns/resolver.ts";
import { formatIp, parseIp } from "../net/ip.ts";
import type { DkimKeyInfo } from "./dkim-store.ts";
import type { DomainSettings } from "./domain-settings.ts";
import type { MailService } from "./mail-service.ts";
import { mtaStsId, mtaStsPolicy } from "./mta-sts.ts";

export type DnsRecordType = "MX" | "TXT" | "CNAME" | "SRV" | "A" | "AAAA";

export interface DnsRecord {
  /** Fully qualified, without the trailing dot. */
  name: string;
  type: DnsRecordType;
  /**
   * Presentation value: `10 mx.example.net` (MX), the TXT text, the CNAME target, `0 1 993 host` (SRV),
   * the address (A/AAAA).
   */
  value: string;
  /** What the record is for (a column of the check table). */
  purpose: string;
}

export const DNS_TTL = 3600;

/**
 * The record that points a web name (mta-sts.<domain>, autoconfig.<domain>) at the edge: a CNAME to its
 * host name, or an A/AAAA record when publicUrl names the edge by address (a CNAME can't hold an address).
 */
function webHostRecord(name: string, webHost: string, purpose: string): DnsRecord {
  const ip = parseIp(webHost.replace(/^\[(.*)\]$/, "$1"));
  if (ip === null) return { name, type: "CNAME", value: webHost, purpose };
  return { name, type: ip.family === 4 ? "A" : "AAAA", value: formatIp(ip), purpose };
}

export async function expectedRecords(
  domain: string,
  settings: DomainSettings,
  service: MailService,
  dkim: DkimKeyInfo[],
): Promise<DnsRecord[]> {
  const rua = (r: string | undefined) => r ?? `mailto:postmaster@${domain}`;
  const policyId = await mtaStsId(mtaStsPolicy(settings, service));
  const records: DnsRecord[] = [
    { name: domain, type: "MX", value: `10 ${service.mailHost}`, purpose: "MX" },
    { name: domain, type: "TXT", value: "v=spf1 mx -all", purpose: "SPF" },
  ];
  // Every key still in the store is published: the active ones sign, retired ones still verify mail in flight.
  for (const k of dkim)
    records.push({ name: k.name, type: "TXT", value: k.record, purpose: `DKIM ${k.selector}` });
  records.push(
    {
      name: `_dmarc.${domain}`,
      type: "TXT",
      value: `v=DMARC1; p=${settings.dmarc.policy}; rua=${rua(settings.dmarc.rua)}`,
      purpose: "DMARC",
    },
    { name: `_mta-sts.${domain}`, type: "TXT", value: `v=STSv1; id=${policyId}`, purpose: "MTA-STS" },
    webHostRecord(`mta-sts.${domain}`, service.webHost, "MTA-STS policy host"),
    {
      name: `_smtp._tls.${domain}`,
      type: "TXT",
      value: `v=TLSRPTv1; rua=${rua(settings.tlsRpt.rua)}`,
      purpose: "TLS-RPT",
    },
    {
      name: `_submissions._tcp.${domain}`,
      type: "SRV",
      value: `0 1 ${service.ports.submissions} ${service.mailHost}`,
      purpose: "submission (RFC 6186)",
    },
    {
      name: `_imaps._tcp.${domain}`,
      type: "SRV",
      value: `0 1 ${service.ports.imaps} ${service.mailHost}`,
      purpose: "IMAP (RFC 6186)",
    },
    webHostRecord(`autoconfig.${domain}`, service.webHost, "autoconfig host"),
  );
  return records;
}

/** A TXT value as zone-file character-strings of at most 255 bytes each. */
function quoteTxt(value: string): string {
  const chunks = value.match(/.{1,255}/g) ?? [""];
  const quoted = chunks.map((c) => `"${c.replace(/["\\]/g, "\\$&")}"`);
  return quoted.length === 1 ? (quoted[0] as string) : `( ${quoted.join("\n      ")} )`;
}

function relative(name: string, domain: string): string {
  if (name === domain) return "@";
  return name.endsWith(`.${domain}`) ? name.slice(0, -domain.length - 1) : `${name}.`;
}

export function renderZone(domain: string, records: DnsRecord[], service: MailService): string {
  const lines = [
    `; DNS records for ${domain}, made by mxedge. Paste into the zone of ${domain}.`,
    `; ${service.mailHost} needs A/AAAA records for the relay; ${service.webHost} must serve the edge over HTTPS.`,
    `$ORIGIN ${domain}.`,
  ];
  const width = Math.max(...records.map((r) => relative(r.name, domain).length));
  for (const r of records) {
    let value = r.value;
    if (r.type === "TXT") value = quoteTxt(r.value);
    else if (r.type === "CNAME") value = `${r.value}.`;
    else if (r.type === "MX" || r.type === "SRV") value = `${r.value}.`;
    lines.push(`${relative(r.name, domain).padEnd(width)} ${DNS_TTL} IN ${r.type.padEnd(5)} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

export type CheckStatus = "ok" | "missing" | "different" | "error";

export interface CheckResult extends DnsRecord {
  status: CheckStatus;
  /** What is live (for different), or the DNS error (for error). */
  found: string[];
}

/** `v=` records compare by tag list, ignoring spacing and a trailing `;`. */
function normaliseTxt(value: string): string {
  return value
    .split(";")
    .map((t) => t.trim().replace(/\s*=\s*/, "="))
    .filter(Boolean)
    .join("; ");
}

function txtPrefix(value: string): string {
  return (value.split(";")[0] ?? "").trim().toLowerCase();
}

async function lookup(resolver: DnsResolver, r: DnsRecord): Promise<string[]> {
  switch (r.type) {
    case "MX":
      return ((await resolver(r.name, "MX")) as MxRecord[]).map(
        (m) => `${m.priority} ${normaliseName(m.exchange)}`,
      );
    case "SRV":
      return ((await resolver(r.name, "SRV")) as SrvRecord[]).map(
        (s) => `${s.priority} ${s.weight} ${s.port} ${normaliseName(s.name)}`,
      );
    case "CNAME":
      return ((await resolver(r.name, "CNAME")) as string[]).map(normaliseName);
    case "A":
    case "AAAA":
      return ((await resolver(r.name, r.type)) as string[]).map((a) => {
        const ip = parseIp(a);
        return ip === null ? a : formatIp(ip);
      });
    case "TXT":
      return ((await resolver(r.name, "TXT")) as string[][]).map((parts) => parts.join(""));
  }
}

function judge(r: DnsRecord, live: string[]): CheckStatus {
  switch (r.type) {
    case "MX": {
      const host = r.value.split(" ")[1];
      return live.some((m) => m.split(" ")[1] === host) ? "ok" : "different";
    }
    case "SRV": {
      const [, , port, host] = r.value.split(" ");
      return live.some((s) => {
        const [, , p, h] = s.split(" ");
        return p === port && h === host;
      })
        ? "ok"
        : "different";
    }
    case "CNAME":
      return live.includes(normaliseName(r.value)) ? "ok" : "different";
    case "A":
    case "AAAA":
      return live.includes(r.value) ? "ok" : "different";
    case "TXT": {
      const prefix = txtPrefix(r.value);
      const same = live.filter((t) => txtPrefix(t) === prefix);
      if (same.length === 0) return "missing";
      return same.some((t) => normaliseTxt(t) === normaliseTxt(r.value)) ? "ok" : "different";
    }
  }
}

export async function checkRecords(records: DnsRecord[], resolver: DnsResolver): Promise<CheckResult[]> {
  return Promise.all(
    records.map(async (r): Promise<CheckResult> => {
      let live: string[];
      try {
        live = await lookup(resolver, r);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ENOTFOUND" || code === "ENODATA") return { ...r, status: "missing", found: [] };
        return {
          ...r,
          status: "error",
          found: [
            isTemporaryDnsError(err) ? `temporary DNS failure (${code})` : String((err as Error).message),
          ],
        };
      }
      if (live.length === 0) return { ...r, status: "missing", found: [] };
      const status = judge(r, live);
      const relevant = r.type === "TXT" ? live.filter((t) => txtPrefix(t) === txtPrefix(r.value)) : live;
      return { ...r, status, found: status === "ok" ? [] : relevant };
    }),
  );
}
