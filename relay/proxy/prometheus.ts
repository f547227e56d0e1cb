/** The PROXY acceptor's counters in Prometheus text format, for the relay's /metrics. */
import { proxyMetrics, REFUSAL_REASONS } from "./metrics.ts";

export function renderProxyMetrics(m = proxyMetrics): string {
  const lines = [
    "# HELP mxedge_proxy_accepted_total Connections accepted, with a PROXY header or direct.",
    "# TYPE mxedge_proxy_accepted_total counter",
    `mxedge_proxy_accepted_total{via="proxy"} ${m.accepted.proxied}`,
    `mxedge_proxy_accepted_total{via="direct"} ${m.accepted.direct}`,
    "# HELP mxedge_proxy_refused_total Connections closed before any banner, by reason.",
    "# TYPE mxedge_proxy_refused_total counter",
    ...REFUSAL_REASONS.map((r) => `mxedge_proxy_refused_total{reason="${r}"} ${m.refused[r]}`),
  ];
  return `${lines.join("\n")}\n`;
}
