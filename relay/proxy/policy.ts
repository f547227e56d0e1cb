/** A listener's PROXY protocol policy: which peers must send a header, and the limits on reading it. */
import type { Cidr } from "../../src/net/cidr.ts";
import { matchesAnyCidr, parseCidrList } from "../../src/net/cidr.ts";
import { DEFAULT_MAX_HEADER_BYTES, LARGEST_V2_HEADER } from "./parser.ts";
import { V2_FIXED_LENGTH } from "./v2.ts";

export const DEFAULT_PROXY_TIMEOUT_MS = 3000;

export interface ProxyPolicy {
  /** CIDRs (or bare addresses) of the proxies allowed to send a header; they must send one. */
  trusted: readonly string[];
  /** Time allowed for a complete header; default 3000. */
  timeoutMs?: number;
  /** Cap on a v2 header; default 4096. */
  maxHeaderBytes?: number;
  /** Serve peers outside `trusted` as direct connections instead of refusing them; default false. */
  allowDirect?: boolean;
}

export interface ResolvedProxyPolicy {
  trusted: readonly Cidr[];
  timeoutMs: number;
  maxHeaderBytes: number;
  allowDirect: boolean;
}

const cache = new WeakMap<ProxyPolicy, ResolvedProxyPolicy>();

/** Validates a policy and fills in defaults. Throws (CidrError or RangeError) with a readable message. */
export function resolveProxyPolicy(policy: ProxyPolicy): ResolvedProxyPolicy {
  const cached = cache.get(policy);
  if (cached !== undefined) return cached;
  const timeoutMs = policy.timeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`proxy timeoutMs must be a positive integer, got ${timeoutMs}`);
  }
  const maxHeaderBytes = policy.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (
    !Number.isInteger(maxHeaderBytes) ||
    maxHeaderBytes < V2_FIXED_LENGTH ||
    maxHeaderBytes > LARGEST_V2_HEADER
  ) {
    throw new RangeError(
      `proxy maxHeaderBytes must be an integer between ${V2_FIXED_LENGTH} and ${LARGEST_V2_HEADER}, got ${maxHeaderBytes}`,
    );
  }
  const resolved: ResolvedProxyPolicy = {
    trusted: parseCidrList(policy.trusted),
    timeoutMs,
    maxHeaderBytes,
    allowDirect: policy.allowDirect ?? false,
  };
  cache.set(policy, resolved);
  return resolved;
}

export function isTrustedPeer(policy: ResolvedProxyPolicy, address: string): boolean {
  return matchesAnyCidr(policy.trusted, address);
}
