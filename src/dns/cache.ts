/** A small TTL cache in front of any resolver; definite negative answers are cached too, failures never. */
import { type DnsAnswer, type DnsResolver, isTemporaryDnsError } from "./resolver.ts";

export function cachedResolver(
  inner: DnsResolver,
  opts: { ttlMs: number; maxEntries: number; now?: () => number },
): DnsResolver {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { until: number; answer?: DnsAnswer; error?: unknown }>();
  return async (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) {
      if (hit.error) throw hit.error;
      return hit.answer as DnsAnswer;
    }
    try {
      const answer = await inner(name, rrtype);
      if (cache.size >= opts.maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(key, { until: now() + opts.ttlMs, answer });
      return answer;
    } catch (error) {
      if (!isTemporaryDnsError(error)) cache.set(key, { until: now() + opts.ttlMs, error });
      throw error;
    }
  };
}
