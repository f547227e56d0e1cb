/** PROXY protocol v1/v2 support for the relay's listeners. */

export type { Cidr } from "../../src/net/cidr.ts";
export { CidrError, cidrContains, matchesAnyCidr, parseCidr, parseCidrList } from "../../src/net/cidr.ts";
export type { AcceptHooks, AcceptResult } from "./accept.ts";
export { acceptConnection } from "./accept.ts";
export type { ListenerTls } from "./connection-info.ts";
export { connectionFromHeader, proxyTlsState } from "./connection-info.ts";
export { crc32c } from "./crc32c.ts";
export { encodeV1, encodeV2 } from "./encode.ts";
export type { ProxyMetrics, RefusalReason } from "./metrics.ts";
export { proxyMetrics } from "./metrics.ts";
export type { ProxyParserOptions } from "./parser.ts";
export { DEFAULT_MAX_HEADER_BYTES, ProxyHeaderParser, parseProxyHeader } from "./parser.ts";
export type { ProxyPolicy, ResolvedProxyPolicy } from "./policy.ts";
export { DEFAULT_PROXY_TIMEOUT_MS, isTrustedPeer, resolveProxyPolicy } from "./policy.ts";
export type {
  ParseStep,
  ProxyCommand,
  ProxyFamily,
  ProxyHeader,
  ProxyTlvs,
  RawTlv,
  SslTlv,
} from "./types.ts";
