import type { Endpoint } from "../../src/connection.ts";

/** `local`: a health check from the proxy itself; `proxy`: a relayed client connection. */
export type ProxyCommand = "local" | "proxy";

/**
 * Address family and transport announced by the header.
 * `unspec` covers v1 `UNKNOWN` and v2 AF_UNSPEC (0x00); the addresses are then the socket's own.
 */
export type ProxyFamily = "unspec" | "tcp4" | "udp4" | "tcp6" | "udp6" | "unix-stream" | "unix-dgram";

/** A TLV the parser does not interpret, kept as received. */
export interface RawTlv {
  type: number;
  value: Uint8Array;
}

/** PP2_TYPE_SSL (0x20) and its sub-TLVs. */
export interface SslTlv {
  /** Raw `client` flags: PP2_CLIENT_SSL 0x01, PP2_CLIENT_CERT_CONN 0x02, PP2_CLIENT_CERT_SESS 0x04. */
  client: number;
  /** 0 when the client presented a certificate and it was verified successfully. */
  verify: number;
  version: string | null;
  cn: string | null;
  cipher: string | null;
  sigAlg: string | null;
  keyAlg: string | null;
  /** Sub-TLVs of unknown type. */
  unknown: RawTlv[];
}

export interface ProxyTlvs {
  alpn: string | null;
  authority: string | null;
  /** The CRC32C value carried by the header (already verified), or null when absent. */
  crc32c: number | null;
  /** UNIQUE_ID, lowercase hex. */
  uniqueId: string | null;
  netns: string | null;
  ssl: SslTlv | null;
  /** TLVs of unknown type, in order. */
  unknown: RawTlv[];
}

export interface ProxyHeader {
  version: 1 | 2;
  command: ProxyCommand;
  family: ProxyFamily;
  /** The real client; null for LOCAL, `unspec` and AF_UNIX headers. */
  source: Endpoint | null;
  /** The address the client connected to; null exactly when `source` is. */
  destination: Endpoint | null;
  /** Always empty for v1 and for v2 LOCAL (whose payload is skipped). */
  tlvs: ProxyTlvs;
}

export type ParseStep =
  | { state: "need-more" }
  | { state: "done"; header: ProxyHeader; rest: Uint8Array }
  | { state: "error"; reason: string };

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

export function emptyTlvs(): ProxyTlvs {
  return { alpn: null, authority: null, crc32c: null, uniqueId: null, netns: null, ssl: null, unknown: [] };
}
