/**
 * The DNS interface the pipeline uses (SPF, DKIM, DMARC, ARC, DNSBL). Its shape is node's
 * `dns.promises.resolve(name, rrtype)`, which is what mailauth expects, so any implementation plugs in:
 * node:dns on Node/Deno, DNS-over-HTTPS on Workers, or a static zone in tests and air-gapped set-ups.
 */
export type RecordType = "A" | "AAAA" | "TXT" | "MX" | "CNAME" | "PTR" | "NS" | "SRV";

export interface MxRecord {
  exchange: string;
  priority: number;
}

/** RFC 2782 SRV, as node's resolveSrv returns it. */
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  name: string;
}

/** TXT answers are lists of character-strings per record, as node returns them. */
export type DnsAnswer = string[] | string[][] | MxRecord[] | SrvRecord[];

export type DnsResolver = (name: string, rrtype: RecordType) => Promise<DnsAnswer>;

/**
 * Error codes follow node's: ENOTFOUND (NXDOMAIN) and ENODATA (no record of that type) are
 * definite answers; ESERVFAIL, ETIMEOUT and ECONNREFUSED are temporary (SPF/DMARC `temperror`).
 */
export type DnsErrorCode = "ENOTFOUND" | "ENODATA" | "ESERVFAIL" | "ETIMEOUT" | "ECONNREFUSED" | "EBADRESP";

/** V8's stack depth for new errors (Node, Deno, Workers); absent elsewhere. */
const errorLimits = Error as { stackTraceLimit?: number };

/**
 * A DNS answer that is not a record (NXDOMAIN, no data) or a failure. These are ordinary answers, made
 * for every message (DMARC's tree walk asks for names that do not exist), so they carry no stack trace:
 * capturing one through the authentication's async call chain cost more than the look-up itself.
 */
export class DnsError extends Error {
  readonly code: DnsErrorCode;
  constructor(code: DnsErrorCode, name: string, rrtype: string) {
    const limit = errorLimits.stackTraceLimit;
    errorLimits.stackTraceLimit = 0;
    try {
      super(`${rrtype} ${name}: ${code}`);
    } finally {
      errorLimits.stackTraceLimit = limit;
    }
    this.name = "DnsError";
    this.code = code;
  }
}

export function isTemporaryDnsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ESERVFAIL" || code === "ETIMEOUT" || code === "ECONNREFUSED" || code === "EBADRESP";
}

export function normaliseName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}
