/**
 * Webhook URLs must not reach into the server's own network: loopback, private, link-local, CGNAT,
 * unique-local and cloud metadata addresses are refused unless allowlisted (by CIDR).
 */
import { type Cidr, matchesAnyCidr, parseCidrList } from "../net/cidr.ts";
import { parseIp } from "../net/ip.ts";

const BLOCKED = parseCidrList([
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::/128",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
]);

export type TargetVerdict = { ok: true } | { ok: false; reason: string };

/** Checks one resolved address (IPv4-mapped IPv6 is judged as the IPv4 address it carries). */
export function checkAddress(address: string, allow: Cidr[] = []): TargetVerdict {
  if (!parseIp(address)) return { ok: false, reason: `${address} is not an IP address` };
  if (matchesAnyCidr(allow, address)) return { ok: true };
  if (matchesAnyCidr(BLOCKED, address))
    return { ok: false, reason: `${address} is a loopback, private, link-local or reserved address` };
  return { ok: true };
}

/** Checks a URL at configuration time: scheme, credentials, and a literal IP host. */
export function checkUrl(url: string, allow: Cidr[] = []): TargetVerdict {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, reason: `not a URL: ${url}` };
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    return { ok: false, reason: `only http(s) URLs, got ${u.protocol}` };
  if (u.username || u.password)
    return { ok: false, reason: "credentials in the URL are not allowed; use the signing secret" };
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return checkAddress("127.0.0.1", allow);
  if (host === "metadata.google.internal")
    return { ok: false, reason: "cloud metadata endpoints are not allowed" };
  return parseIp(host) ? checkAddress(host, allow) : { ok: true };
}
