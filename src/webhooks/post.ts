/**
 * One signed webhook POST: the target is checked against private ranges (the URL, then what its host
 * resolves to), redirects are not followed, the request has a timeout and only the first bytes of the
 * response are read. Shared by the outbox (asynchronous) and synchronous routes.
 */
import type { DnsResolver } from "../dns/resolver.ts";
import type { Cidr } from "../net/cidr.ts";
import { parseIp } from "../net/ip.ts";
import { signWebhook } from "./sign.ts";
import { checkAddress, checkUrl } from "./ssrf.ts";

export interface PostDeps {
  fetch: typeof fetch;
  now(): number;
  allow: Cidr[];
  resolver?: DnsResolver;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

export interface PostResult {
  /** HTTP status, or null when no answer came. */
  status: number | null;
  error: string | null;
  snippet: string | null;
  /** The target was refused before any request was made. */
  blocked: boolean;
}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  const joined = new Uint8Array(Math.min(size, max));
  let off = 0;
  for (const p of parts) {
    const take = p.subarray(0, joined.length - off);
    joined.set(take, off);
    off += take.length;
  }
  return new TextDecoder().decode(joined);
}

/** Refuses targets in private ranges: the literal host at once, a host name by what it resolves to. */
async function checkTarget(url: string, deps: PostDeps): Promise<string | null> {
  const literal = checkUrl(url, deps.allow);
  if (!literal.ok) return literal.reason;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (parseIp(host) || !deps.resolver) return null;
  for (const rr of ["A", "AAAA"] as const) {
    const answers = await deps.resolver(host, rr).catch(() => [] as string[]);
    for (const a of answers as string[]) {
      const verdict = checkAddress(a, deps.allow);
      if (!verdict.ok) return `${host} resolves to ${verdict.reason}`;
    }
  }
  return null;
}

export async function postSigned(
  endpoint: { url: string; secret: string },
  webhookId: string,
  body: Uint8Array,
  headers: Record<string, string>,
  deps: PostDeps,
): Promise<PostResult> {
  const blocked = await checkTarget(endpoint.url, deps);
  if (blocked) return { status: null, error: `blocked target: ${blocked}`, snippet: null, blocked: true };
  const signature = await signWebhook(endpoint.secret, webhookId, Math.floor(deps.now() / 1000), body);
  try {
    const res = await deps.fetch(endpoint.url, {
      method: "POST",
      headers: { ...headers, ...signature, "user-agent": "mxedge-webhooks/1" },
      body: body as Uint8Array<ArrayBuffer>,
      redirect: "manual",
      signal: AbortSignal.timeout(deps.timeoutMs ?? 15_000),
    });
    return {
      status: res.status,
      error: null,
      snippet: await readCapped(res, deps.maxResponseBytes ?? 1024),
      blocked: false,
    };
  } catch (err) {
    const e = err as Error;
    return {
      status: null,
      error: e.name === "TimeoutError" ? "timeout" : `request failed: ${e.message}`,
      snippet: null,
      blocked: false,
    };
  }
}
