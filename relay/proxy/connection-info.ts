/** Builds the ConnectionInfo for a connection from its socket endpoints and an accepted PROXY header. */
import type { ConnectionInfo, Endpoint, TlsState } from "../../src/connection.ts";
import { PP2_CLIENT_CERT_CONN, PP2_CLIENT_CERT_SESS, PP2_CLIENT_SSL } from "./tlv.ts";
import type { ProxyHeader } from "./types.ts";

/** How a listener does TLS. `proxy`: the trusted proxy in front terminates it. */
export interface ListenerTls {
  mode: "none" | "implicit" | "proxy";
  /** With mode `proxy`: count every proxied session as TLS even without an SSL TLV (e.g. v1 headers). */
  assumeTls?: boolean;
}

/**
 * TLS as reported by a trusted proxy; null unless the listener's mode is `proxy` and either the SSL TLV
 * has PP2_CLIENT_SSL set or `assumeTls` is on. For other modes the TLS layer fills `tls` itself.
 */
export function proxyTlsState(header: ProxyHeader, tls: ListenerTls): TlsState | null {
  if (tls.mode !== "proxy") return null;
  const ssl = header.tlvs.ssl;
  const viaTlv = ssl !== null && (ssl.client & PP2_CLIENT_SSL) !== 0;
  if (!viaTlv && tls.assumeTls !== true) return null;
  const certPresented = ssl !== null && (ssl.client & (PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS)) !== 0;
  return {
    terminatedBy: "proxy",
    version: ssl?.version ?? null,
    cipher: ssl?.cipher ?? null,
    sni: header.tlvs.authority,
    clientCertCn: ssl?.cn ?? null,
    clientCertVerified: certPresented && ssl.verify === 0,
  };
}

/**
 * The connection described by an accepted header from the trusted proxy at `peer`.
 * When the header carries no addresses (v2 LOCAL health checks, v1 UNKNOWN, v2 AF_UNSPEC / AF_UNIX)
 * the socket's own endpoints are the client and server, `proxy` is null (the peer is the client) and
 * `proxyVersion` still records the header's version.
 */
export function connectionFromHeader(
  header: ProxyHeader,
  peer: Endpoint,
  local: Endpoint,
  tls: ListenerTls,
): ConnectionInfo {
  const relayed = header.source !== null && header.destination !== null;
  return {
    client: relayed ? header.source! : peer,
    server: relayed ? header.destination! : local,
    proxy: relayed ? peer : null,
    proxyVersion: header.version,
    tls: proxyTlsState(header, tls),
    authority: header.tlvs.authority,
    uniqueId: header.tlvs.uniqueId,
    alpn: header.tlvs.alpn,
  };
}
