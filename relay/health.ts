/**
 * The admin port's health endpoints, for load balancers and monitoring:
 *   GET /healthz  200 while the process runs (liveness)
 *   GET /readyz   200 when the relay can take mail: edge up, a valid certificate, not draining; else 503.
 *                 The body always lists the edge state, the certificates and any problem (a failed
 *                 certificate reload or ACME renewal is reported here even while the old one serves).
 */
import type { AcmeStatus } from "./acme/manager.ts";
import type { CertStore } from "./certs/store.ts";
import type { EdgeMonitor } from "./edge-monitor.ts";

export interface HealthSources {
  edge: EdgeMonitor;
  certs: CertStore;
  acme: () => AcmeStatus | null;
  draining: () => boolean;
  mode: "embedded" | "relay";
}

export function readiness(h: HealthSources): { ready: boolean; body: Record<string, unknown> } {
  const edge = h.edge.state;
  const problems = h.certs.problems();
  if (edge.state === "down")
    problems.unshift(`edge: down since ${edge.since}: ${edge.lastError ?? "unreachable"}`);
  const validCert = h.certs.hasValid();
  if (!validCert) problems.push("tls: no valid certificate");
  const ready = edge.state !== "down" && validCert && !h.draining();
  return {
    ready,
    body: {
      ready,
      mode: h.mode,
      draining: h.draining(),
      edge,
      certificates: h.certs.summary(),
      acme: h.acme(),
      problems,
    },
  };
}

/** Answers /healthz and /readyz; null for any other path (the caller routes it on). */
export function healthResponse(req: Request, h: HealthSources): Response | null {
  const path = new URL(req.url).pathname;
  if (path === "/healthz") return Response.json({ ok: true, draining: h.draining() });
  if (path === "/readyz") {
    const r = readiness(h);
    return Response.json(r.body, { status: r.ready ? 200 : 503 });
  }
  return null;
}
