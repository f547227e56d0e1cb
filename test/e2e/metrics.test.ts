/** The relay's Prometheus metrics on the HTTP port: SMTP transactions and the PROXY acceptor's counters. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMxedge, smtpSend, startMxedge } from "./harness.ts";

describe("GET /metrics", () => {
  let mx: RunningMxedge;
  beforeAll(async () => {
    mx = await startMxedge();
    await mx.cli(["domain", "add", "metrics.test"]);
    await mx.cli(["user", "add", "m@metrics.test", "--password-stdin"], "metrics-password");
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("counts transactions by result and the connections the PROXY acceptor saw", async () => {
    expect(
      await smtpSend("plain", mx.ports.smtp, "a@sender.test", "m@metrics.test", "counted"),
    ).toMatchObject({ code: 250 });
    const res = await fetch(`http://127.0.0.1:${mx.ports.http}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^mxedge_proxy_accepted_total\{via="direct"\} [1-9]\d*$/m);
    expect(text).toMatch(/^mxedge_proxy_refused_total\{reason="timeout"\} \d+$/m);
    expect(text).toMatch(/^mxedge_smtp_\w+\{[^}]*code="250"[^}]*\} [1-9]\d*$/m);
  });
});
