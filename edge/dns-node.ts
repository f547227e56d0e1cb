/** The system resolver on Node/Deno (node:dns), with a per-query timeout and node's error codes. */
import { Resolver } from "node:dns/promises";
import { DnsError, type DnsErrorCode, type DnsResolver } from "../src/dns/resolver.ts";

export function systemResolver(opts: { timeoutMs: number; servers?: string[] }): DnsResolver {
  const resolver = new Resolver({ timeout: opts.timeoutMs, tries: 2 });
  if (opts.servers && opts.servers.length > 0) resolver.setServers(opts.servers);
  return async (name, rrtype) => {
    try {
      return (await resolver.resolve(name, rrtype)) as never;
    } catch (err) {
      const code = (err as { code?: string }).code ?? "ESERVFAIL";
      const known: DnsErrorCode[] = [
        "ENOTFOUND",
        "ENODATA",
        "ESERVFAIL",
        "ETIMEOUT",
        "ECONNREFUSED",
        "EBADRESP",
      ];
      throw new DnsError(
        known.includes(code as DnsErrorCode) ? (code as DnsErrorCode) : "ESERVFAIL",
        name,
        rrtype,
      );
    }
  };
}
