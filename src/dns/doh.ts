/**
 * DNS-over-HTTPS for Workers (no UDP there): the JSON API (`application/dns-json`, as served by
 * Cloudflare and Google) or RFC 8484 wire format (`application/dns-message`), over `fetch`.
 */

import {
  type DnsAnswer,
  DnsError,
  type DnsResolver,
  type MxRecord,
  normaliseName,
  type RecordType,
} from "./resolver.ts";
import { decodeAnswer, encodeQuery, type WireAnswer } from "./wire.ts";

const TYPE_CODES: Record<RecordType, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
};

export interface DohOptions {
  /** e.g. https://cloudflare-dns.com/dns-query */
  endpoint: string;
  format: "json" | "wire";
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Splits a presentation-format TXT rdata ("a" "b") into its character-strings. */
function txtStrings(data: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(data); m; m = re.exec(data)) out.push((m[1] ?? "").replace(/\\(.)/g, "$1"));
  return out.length > 0 ? out : [data];
}

function shape(rrtype: RecordType, answers: WireAnswer[]): DnsAnswer {
  const wanted = answers.filter((a) => a.type === TYPE_CODES[rrtype]);
  switch (rrtype) {
    case "TXT":
      return wanted.map((a) => (Array.isArray(a.data) ? a.data : txtStrings(String(a.data))));
    case "MX":
      return wanted.map((a): MxRecord => {
        if (typeof a.data === "object" && !Array.isArray(a.data)) return a.data;
        const [priority, exchange] = String(a.data).split(/\s+/);
        return { priority: Number(priority), exchange: normaliseName(exchange ?? "") };
      });
    case "SRV":
      return wanted.map((a) => {
        const [priority, weight, port, name] = String(a.data).split(/\s+/);
        return {
          priority: Number(priority),
          weight: Number(weight),
          port: Number(port),
          name: normaliseName(name ?? ""),
        };
      });
    default:
      return wanted.map((a) => normaliseName(String(a.data)));
  }
}

export function dohResolver(opts: DohOptions): DnsResolver {
  const doFetch = opts.fetch ?? fetch;
  return async (name, rrtype) => {
    const n = normaliseName(name);
    const signal = AbortSignal.timeout(opts.timeoutMs);
    let rcode: number;
    let answers: WireAnswer[];
    try {
      if (opts.format === "json") {
        const url = new URL(opts.endpoint);
        url.searchParams.set("name", n);
        url.searchParams.set("type", rrtype);
        const res = await doFetch(url, { headers: { accept: "application/dns-json" }, signal });
        if (!res.ok) throw new DnsError("ESERVFAIL", n, rrtype);
        const body = (await res.json()) as {
          Status?: number;
          Answer?: Array<{ type: number; data: string }>;
        };
        rcode = body.Status ?? 2;
        answers = (body.Answer ?? []).map((a) => ({ type: a.type, data: a.data }));
      } else {
        const res = await doFetch(opts.endpoint, {
          method: "POST",
          headers: { accept: "application/dns-message", "content-type": "application/dns-message" },
          body: encodeQuery(n, TYPE_CODES[rrtype]) as Uint8Array<ArrayBuffer>,
          signal,
        });
        if (!res.ok) throw new DnsError("ESERVFAIL", n, rrtype);
        ({ rcode, answers } = decodeAnswer(new Uint8Array(await res.arrayBuffer())));
      }
    } catch (err) {
      if (err instanceof DnsError) throw err;
      throw new DnsError((err as Error).name === "TimeoutError" ? "ETIMEOUT" : "ESERVFAIL", n, rrtype);
    }
    if (rcode === 3) throw new DnsError("ENOTFOUND", n, rrtype);
    if (rcode !== 0) throw new DnsError("ESERVFAIL", n, rrtype);
    const shaped = shape(rrtype, answers);
    if (shaped.length === 0) throw new DnsError("ENODATA", n, rrtype);
    return shaped;
  };
}
