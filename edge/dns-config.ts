/** Builds the DNS resolver the config asks for, on Node/Deno. */
import { readFileSync } from "node:fs";
import type { Config } from "../src/config.ts";
import { cachedResolver } from "../src/dns/cache.ts";
import { dohResolver } from "../src/dns/doh.ts";
import type { DnsResolver } from "../src/dns/resolver.ts";
import { parseZone, zoneResolver } from "../src/dns/zone.ts";
import { systemResolver } from "./dns-node.ts";

export function resolverFromConfig(dns: Config["dns"]): DnsResolver {
  let base: DnsResolver;
  if (dns.mode === "zone") {
    // Parsed once at start-up: a syntax error stops the server with the file and line.
    base = zoneResolver(parseZone(readFileSync(dns.zoneFile as string, "utf8")));
    return base;
  }
  base =
    dns.mode === "doh"
      ? dohResolver({ endpoint: dns.dohUrl, format: dns.dohFormat, timeoutMs: dns.timeoutMs })
      : systemResolver({ timeoutMs: dns.timeoutMs, servers: dns.servers });
  return dns.cacheTtlMs > 0 ? cachedResolver(base, { ttlMs: dns.cacheTtlMs, maxEntries: 10_000 }) : base;
}
