/**
 * What the relay knows about one client connection, after any PROXY protocol header.
 * One shape everywhere: SPF (client IP), the Received header, rate limits, logs and the relay→edge request.
 */
export interface Endpoint {
  /** Textual IP address; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is normalised to `a.b.c.d`. */
  address: string;
  port: number;
}

export interface TlsState {
  /** Who terminated TLS: this relay's own socket, or the proxy in front of it (PROXY v2 SSL TLV / assumeTls). */
  terminatedBy: "relay" | "proxy";
  /** e.g. "TLSv1.3"; null when the proxy did not say. */
  version: string | null;
  /** e.g. "TLS_AES_256_GCM_SHA384"; null when unknown. */
  cipher: string | null;
  /** SNI the client asked for, when known. */
  sni: string | null;
  /** Client certificate common name forwarded by the proxy (exposed, not necessarily trusted). */
  clientCertCn: string | null;
  /** True only when the proxy says a client certificate was presented and verified. */
  clientCertVerified: boolean;
}

export interface ConnectionInfo {
  /** The real client: from the PROXY header when one was accepted, else the socket peer. */
  client: Endpoint;
  /** The address the client connected to (the proxy's frontend address when proxied). */
  server: Endpoint;
  /** The socket peer when it was a trusted proxy, else null. */
  proxy: Endpoint | null;
  /** PROXY protocol version that carried the addresses, or null for a direct connection. */
  proxyVersion: 1 | 2 | null;
  tls: TlsState | null;
  /** PROXY v2 AUTHORITY TLV (usually the SNI host name). */
  authority: string | null;
  /** PROXY v2 UNIQUE_ID TLV, hex-encoded. */
  uniqueId: string | null;
  /** PROXY v2 ALPN TLV. */
  alpn: string | null;
}

/** A connection straight from a socket, with no proxy in front. */
export function directConnection(client: Endpoint, server: Endpoint): ConnectionInfo {
  return {
    client,
    server,
    proxy: null,
    proxyVersion: null,
    tls: null,
    authority: null,
    uniqueId: null,
    alpn: null,
  };
}
