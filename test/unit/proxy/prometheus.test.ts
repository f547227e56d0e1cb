import { describe, expect, it } from "vitest";
import { renderProxyMetrics } from "../../../relay/proxy/prometheus.ts";

describe("PROXY metrics", () => {
  it("render every counter in Prometheus text format", () => {
    const text = renderProxyMetrics({
      accepted: { proxied: 3, direct: 1 },
      refused: {
        untrusted: 2,
        timeout: 1,
        "invalid-header": 4,
        "unexpected-header": 0,
        closed: 5,
        "socket-error": 0,
      },
    });
    expect(text).toContain('mxedge_proxy_accepted_total{via="proxy"} 3\n');
    expect(text).toContain('mxedge_proxy_refused_total{reason="invalid-header"} 4\n');
    expect(text.match(/^mxedge_proxy_refused_total/gm)).toHaveLength(6);
    expect(text).toMatch(/^# TYPE mxedge_proxy_refused_total counter$/m);
  });
});
