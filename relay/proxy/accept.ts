/**
 * Socket-level PROXY protocol acceptor: decides, per connection, whether a header must be read,
 * reads it (leaving every byte after it in the socket) and produces the connection's ConnectionInfo.
 *
 * - policy null: direct; the peer's bytes are not inspected.
 * - peer in `trusted`: a header must arrive within `timeoutMs`. LOCAL (and any header without addresses)
 *   → the socket's endpoints, `proxy` null, `proxyVersion` set (see connection-info.ts).
 * - peer outside `trusted`: refused, unless `allowDirect`, in which case it is served direct and a
 *   PROXY signature as its first bytes gets it refused:
 *     - TLS mode `implicit` (the client speaks first): the first bytes are read before resolving
 *       (within `timeoutMs`) and put back;
 *     - otherwise (server speaks first: nothing may arrive before the banner) the result is returned
 *       at once and a passive guard, prepended to the socket's `data` listeners without changing its
 *       flow state, checks the first bytes as the next layer reads them; on a signature it counts an
 *       `unexpected-header` refusal, calls `hooks.onLateRefusal` and destroys the socket.
 *
 * On refusal the socket is destroyed (without an error event) and the reason is returned for logging.
 * On success the listeners added here are gone and leftover bytes are back in the socket's buffer; the
 * socket is not flowing until the next layer reads (attach `data`, pipe, or wrap it in TLS).
 * The promise rejects only when the policy itself is invalid.
 */
import type { Socket } from "node:net";
import type { ConnectionInfo, Endpoint } from "../../src/connection.ts";
import { directConnection } from "../../src/connection.ts";
import { normaliseAddress } from "../../src/net/ip.ts";
import type { ListenerTls } from "./connection-info.ts";
import { connectionFromHeader } from "./connection-info.ts";
import type { RefusalReason } from "./metrics.ts";
import { countAccepted, countRefusal } from "./metrics.ts";
import { ProxyHeaderParser } from "./parser.ts";
import type { ProxyPolicy, ResolvedProxyPolicy } from "./policy.ts";
import { isTrustedPeer, resolveProxyPolicy } from "./policy.ts";
import type { FeedStep } from "./prefix-reader.ts";
import { readPrefix } from "./prefix-reader.ts";
import { classifyPrefix, SIGNATURE_PEEK_BYTES } from "./signature.ts";
import type { ProxyHeader } from "./types.ts";

export type AcceptResult =
  | { ok: true; info: ConnectionInfo }
  | { ok: false; reason: RefusalReason; detail: string };

export interface AcceptHooks {
  /** A direct peer already accepted sent a PROXY signature; the socket is being destroyed. */
  onLateRefusal?: (reason: RefusalReason, detail: string) => void;
}

function endpoint(address: string | undefined, port: number | undefined): Endpoint | null {
  if (address === undefined || port === undefined) return null;
  return { address: normaliseAddress(address), port };
}

function refuse(socket: Socket, reason: RefusalReason, detail: string): AcceptResult {
  countRefusal(reason);
  socket.destroy();
  return { ok: false, reason, detail };
}

function direct(peer: Endpoint, local: Endpoint): AcceptResult {
  countAccepted("direct");
  return { ok: true, info: directConnection(peer, local) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

type HeaderRead = { header: ProxyHeader } | { error: string };

async function acceptTrusted(
  socket: Socket,
  policy: ResolvedProxyPolicy,
  tls: ListenerTls,
  peer: Endpoint,
  local: Endpoint,
): Promise<AcceptResult> {
  const parser = new ProxyHeaderParser({ maxHeaderBytes: policy.maxHeaderBytes });
  const outcome = await readPrefix<HeaderRead>(socket, policy.timeoutMs, (chunk): FeedStep<HeaderRead> => {
    const step = parser.push(chunk);
    if (step.state === "need-more") return { kind: "more" };
    if (step.state === "error") return { kind: "finish", value: { error: step.reason }, unshift: null };
    return { kind: "finish", value: { header: step.header }, unshift: step.rest };
  });
  if (!outcome.ok) return refuse(socket, outcome.reason, outcome.detail);
  if ("error" in outcome.value) return refuse(socket, "invalid-header", outcome.value.error);
  countAccepted("proxied");
  return { ok: true, info: connectionFromHeader(outcome.value.header, peer, local, tls) };
}

/** Implicit TLS: the client speaks first, so its first bytes can be awaited and put back. */
async function acceptDirectAfterPeek(
  socket: Socket,
  policy: ResolvedProxyPolicy,
  peer: Endpoint,
  local: Endpoint,
): Promise<AcceptResult> {
  let seen: Uint8Array = new Uint8Array(0);
  const outcome = await readPrefix<boolean>(socket, policy.timeoutMs, (chunk): FeedStep<boolean> => {
    seen = concat(seen, chunk);
    const kind = classifyPrefix(seen.subarray(0, SIGNATURE_PEEK_BYTES));
    if (kind === "partial") return { kind: "more" };
    return kind === "none"
      ? { kind: "finish", value: true, unshift: seen }
      : { kind: "finish", value: false, unshift: null };
  });
  if (!outcome.ok) return refuse(socket, outcome.reason, outcome.detail);
  if (!outcome.value)
    return refuse(socket, "unexpected-header", `PROXY header from untrusted peer ${peer.address}`);
  return direct(peer, local);
}

/** Server speaks first: watch the first bytes as the next layer reads them, without holding them back. */
function guardFirstBytes(socket: Socket, peer: Endpoint, hooks: AcceptHooks): void {
  let seen: Uint8Array = new Uint8Array(0);
  const onData = (chunk: Uint8Array | string): void => {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    seen = concat(seen, bytes.subarray(0, SIGNATURE_PEEK_BYTES - seen.length));
    const kind = classifyPrefix(seen);
    if (kind === "partial") return;
    socket.off("data", onData);
    if (kind === "none") return;
    const detail = `PROXY header from untrusted peer ${peer.address}`;
    countRefusal("unexpected-header");
    hooks.onLateRefusal?.("unexpected-header", detail);
    socket.destroy();
  };
  // prependListener does not go through Readable#on, so it neither resumes the socket nor changes its mode.
  socket.prependListener("data", onData);
}

/**
 * Decides how to serve a freshly accepted socket and reads its PROXY header when one is due.
 * Call it before anything else reads from the socket.
 */
export async function acceptConnection(
  socket: Socket,
  policy: ProxyPolicy | null,
  tls: ListenerTls,
  hooks: AcceptHooks = {},
): Promise<AcceptResult> {
  const peer = endpoint(socket.remoteAddress, socket.remotePort);
  const local = endpoint(socket.localAddress, socket.localPort);
  if (peer === null || local === null) return refuse(socket, "closed", "socket has no addresses");
  if (policy === null) return direct(peer, local);
  const resolved = resolveProxyPolicy(policy);
  if (isTrustedPeer(resolved, peer.address)) return acceptTrusted(socket, resolved, tls, peer, local);
  if (!resolved.allowDirect)
    return refuse(socket, "untrusted", `peer ${peer.address} is not a trusted proxy`);
  if (tls.mode === "implicit") return acceptDirectAfterPeek(socket, resolved, peer, local);
  guardFirstBytes(socket, peer, hooks);
  return direct(peer, local);
}
