import { describe, expect, it } from "vitest";
import { ConnectionLimiter } from "../../relay/limits/connections.ts";
import { RelayMetrics } from "../../relay/metrics.ts";
import { AuthThrottle } from "../../src/limits/auth-throttle.ts";
import { WindowCounter } from "../../src/limits/window-counter.ts";

describe("ConnectionLimiter", () => {
  it("caps per IP and in total, and gives slots back once", () => {
    const l = new ConnectionLimiter({ maxConnections: 3, maxConnectionsPerIp: 2 });
    const a1 = l.acquire("192.0.2.1");
    const a2 = l.acquire("192.0.2.1");
    expect(l.acquire("192.0.2.1")).toEqual({ ok: false, reason: "per-ip" });
    const b1 = l.acquire("192.0.2.2");
    expect(l.acquire("192.0.2.3")).toEqual({ ok: false, reason: "total" });
    if (!a1.ok || !a2.ok || !b1.ok) throw new Error("expected slots");
    a1.release();
    a1.release();
    expect(l.open).toBe(2);
    expect(l.acquire("192.0.2.1").ok).toBe(true);
  });
});

describe("WindowCounter and AuthThrottle", () => {
  it("forgets events older than the window", () => {
    let now = 0;
    const w = new WindowCounter(1000, () => now);
    w.add("x");
    now = 500;
    expect(w.add("x")).toBe(2);
    now = 1200;
    expect(w.count("x")).toBe(1);
    now = 3000;
    expect(w.count("x")).toBe(0);
  });

  it("grows the delay per failure and blocks at the limit", () => {
    let now = 0;
    const t = new AuthThrottle(
      { authFailureDelayMs: 100, maxAuthFailures: 3, authFailureWindowMs: 60_000 },
      () => now,
    );
    expect(t.fail("ip")).toEqual({ delayMs: 100, close: false });
    expect(t.fail("ip")).toEqual({ delayMs: 200, close: false });
    expect(t.blocked("ip")).toBe(false);
    expect(t.fail("ip")).toEqual({ delayMs: 300, close: true });
    expect(t.blocked("ip")).toBe(true);
    expect(t.blocked("other")).toBe(false);
    now = 61_000;
    expect(t.blocked("ip")).toBe(false);
  });
});

describe("RelayMetrics", () => {
  it("renders Prometheus text with counters and a histogram", () => {
    const m = new RelayMetrics();
    m.connections.inc({ listener: "smtp", result: "accepted" });
    m.transactions.inc({ listener: "smtp", code: "250" }, 2);
    m.bytes.inc({ listener: "smtp" }, 1234);
    m.edgeLatency.observe(0.02, { op: "ingest" });
    m.connectionOpened();
    const text = m.render();
    expect(text).toContain('mxedge_smtp_connections_total{listener="smtp",result="accepted"} 1');
    expect(text).toContain('mxedge_smtp_transactions_total{listener="smtp",code="250"} 2');
    expect(text).toContain('mxedge_smtp_received_bytes_total{listener="smtp"} 1234');
    expect(text).toContain('mxedge_edge_request_duration_seconds_bucket{op="ingest",le="0.01"} 0');
    expect(text).toContain('mxedge_edge_request_duration_seconds_bucket{op="ingest",le="0.025"} 1');
    expect(text).toContain('mxedge_edge_request_duration_seconds_count{op="ingest"} 1');
    expect(text).toContain("mxedge_smtp_open_connections 1");
    expect(text).toMatch(/# TYPE mxedge_edge_request_duration_seconds histogram/);
  });
});
