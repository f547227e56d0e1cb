/** Process-wide counters for the PROXY protocol acceptor. Read them; do not reset them outside tests. */

export type RefusalReason =
  /** Peer outside `trusted` and `allowDirect` is off. */
  | "untrusted"
  /** No complete header (or, for a direct TLS peer, no first bytes) within `timeoutMs`. */
  | "timeout"
  /** The header was malformed or over the size cap. */
  | "invalid-header"
  /** A direct (untrusted, allowDirect) peer sent a PROXY signature. */
  | "unexpected-header"
  /** The peer closed the connection before the header was complete. */
  | "closed"
  /** The socket failed while the header was read. */
  | "socket-error";

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  "untrusted",
  "timeout",
  "invalid-header",
  "unexpected-header",
  "closed",
  "socket-error",
];

export interface ProxyMetrics {
  /** Connections accepted with a PROXY header (including LOCAL) / without one. */
  accepted: { proxied: number; direct: number };
  refused: Record<RefusalReason, number>;
}

export const proxyMetrics: ProxyMetrics = {
  accepted: { proxied: 0, direct: 0 },
  refused: {
    untrusted: 0,
    timeout: 0,
    "invalid-header": 0,
    "unexpected-header": 0,
    closed: 0,
    "socket-error": 0,
  },
};

export function countRefusal(reason: RefusalReason): void {
  proxyMetrics.refused[reason]++;
}

export function countAccepted(kind: "proxied" | "direct"): void {
  proxyMetrics.accepted[kind]++;
}
