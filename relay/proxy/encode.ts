/** PROXY protocol encoders (used by tests and tooling; the relay only decodes). */
import type { Endpoint } from "../../src/connection.ts";
import { parseIPv4, parseIPv6 } from "../../src/net/ip.ts";
import { crc32c } from "./crc32c.ts";
import { V2_SIGNATURE } from "./signature.ts";
import {
  PP2_SUBTYPE_SSL_CIPHER,
  PP2_SUBTYPE_SSL_CN,
  PP2_SUBTYPE_SSL_KEY_ALG,
  PP2_SUBTYPE_SSL_SIG_ALG,
  PP2_SUBTYPE_SSL_VERSION,
  PP2_TYPE_ALPN,
  PP2_TYPE_AUTHORITY,
  PP2_TYPE_CRC32C,
  PP2_TYPE_NETNS,
  PP2_TYPE_SSL,
  PP2_TYPE_UNIQUE_ID,
} from "./tlv.ts";
import type { ProxyHeader, ProxyTlvs, SslTlv } from "./types.ts";
import { addressBytesFor, familyByte, V2_FIXED_LENGTH, V2_VER_CMD_LOCAL, V2_VER_CMD_PROXY } from "./v2.ts";

const utf8 = new TextEncoder();

function ipv4(address: string): Uint8Array {
  const bytes = parseIPv4(address);
  if (bytes === null) throw new RangeError(`not an IPv4 address: ${address}`);
  return bytes;
}

/** IPv6 bytes; an IPv4 address is encoded IPv4-mapped. */
function ipv6(address: string): Uint8Array {
  const v4 = parseIPv4(address);
  if (v4 !== null) return new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  const bytes = parseIPv6(address);
  if (bytes === null) throw new RangeError(`not an IPv6 address: ${address}`);
  return bytes;
}

function textIPv6(address: string): string {
  return parseIPv4(address) !== null ? `::ffff:${address}` : address;
}

function endpoints(header: Pick<ProxyHeader, "source" | "destination">): [Endpoint, Endpoint] {
  if (header.source === null || header.destination === null) throw new RangeError("addresses required");
  return [header.source, header.destination];
}

/** The v1 line for a header (`unspec` → `PROXY UNKNOWN`). */
export function encodeV1(header: Pick<ProxyHeader, "family" | "source" | "destination">): Uint8Array {
  if (header.family === "unspec") return utf8.encode("PROXY UNKNOWN\r\n");
  const [src, dst] = endpoints(header);
  let line: string;
  if (header.family === "tcp4") {
    ipv4(src.address);
    ipv4(dst.address);
    line = `PROXY TCP4 ${src.address} ${dst.address} ${src.port} ${dst.port}\r\n`;
  } else if (header.family === "tcp6") {
    ipv6(src.address);
    ipv6(dst.address);
    line = `PROXY TCP6 ${textIPv6(src.address)} ${textIPv6(dst.address)} ${src.port} ${dst.port}\r\n`;
  } else {
    throw new RangeError(`PROXY v1 cannot carry family ${header.family}`);
  }
  return utf8.encode(line);
}

function tlv(type: number, value: Uint8Array): Uint8Array {
  if (value.length > 0xffff) throw new RangeError("TLV value too long");
  const out = new Uint8Array(3 + value.length);
  out[0] = type;
  out[1] = value.length >> 8;
  out[2] = value.length & 0xff;
  out.set(value, 3);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new RangeError(`not hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function encodeSsl(ssl: SslTlv): Uint8Array {
  const head = new Uint8Array(5);
  head[0] = ssl.client;
  new DataView(head.buffer).setUint32(1, ssl.verify);
  const parts: Uint8Array[] = [head];
  const strings: [number, string | null][] = [
    [PP2_SUBTYPE_SSL_VERSION, ssl.version],
    [PP2_SUBTYPE_SSL_CN, ssl.cn],
    [PP2_SUBTYPE_SSL_CIPHER, ssl.cipher],
    [PP2_SUBTYPE_SSL_SIG_ALG, ssl.sigAlg],
    [PP2_SUBTYPE_SSL_KEY_ALG, ssl.keyAlg],
  ];
  for (const [type, value] of strings) if (value !== null) parts.push(tlv(type, utf8.encode(value)));
  for (const raw of ssl.unknown) parts.push(tlv(raw.type, raw.value));
  return concat(parts);
}

function encodeTlvs(tlvs: ProxyTlvs): Uint8Array[] {
  const parts: Uint8Array[] = [];
  if (tlvs.alpn !== null) parts.push(tlv(PP2_TYPE_ALPN, utf8.encode(tlvs.alpn)));
  if (tlvs.authority !== null) parts.push(tlv(PP2_TYPE_AUTHORITY, utf8.encode(tlvs.authority)));
  if (tlvs.uniqueId !== null) parts.push(tlv(PP2_TYPE_UNIQUE_ID, fromHex(tlvs.uniqueId)));
  if (tlvs.netns !== null) parts.push(tlv(PP2_TYPE_NETNS, utf8.encode(tlvs.netns)));
  if (tlvs.ssl !== null) parts.push(tlv(PP2_TYPE_SSL, encodeSsl(tlvs.ssl)));
  for (const raw of tlvs.unknown) parts.push(tlv(raw.type, raw.value));
  return parts;
}

function addressBlock(header: Pick<ProxyHeader, "family" | "source" | "destination">): Uint8Array {
  const block = new Uint8Array(addressBytesFor(header.family));
  const view = new DataView(block.buffer);
  if (header.family === "tcp4" || header.family === "udp4") {
    const [src, dst] = endpoints(header);
    block.set(ipv4(src.address), 0);
    block.set(ipv4(dst.address), 4);
    view.setUint16(8, src.port);
    view.setUint16(10, dst.port);
  } else if (header.family === "tcp6" || header.family === "udp6") {
    const [src, dst] = endpoints(header);
    block.set(ipv6(src.address), 0);
    block.set(ipv6(dst.address), 16);
    view.setUint16(32, src.port);
    view.setUint16(34, dst.port);
  }
  // unspec: no block; unix: 216 zero bytes (empty paths).
  return block;
}

/**
 * The v2 header for `header`. A CRC32C TLV is appended (and computed) when `header.tlvs.crc32c`
 * is not null; its given value is ignored. LOCAL headers carry no payload.
 */
export function encodeV2(header: Omit<ProxyHeader, "version">): Uint8Array {
  const parts: Uint8Array[] = [];
  if (header.command === "proxy") {
    parts.push(addressBlock(header), ...encodeTlvs(header.tlvs));
    if (header.tlvs.crc32c !== null) parts.push(tlv(PP2_TYPE_CRC32C, new Uint8Array(4)));
  }
  const payload = concat(parts);
  if (payload.length > 0xffff) throw new RangeError("PROXY v2 payload too long");
  const out = new Uint8Array(V2_FIXED_LENGTH + payload.length);
  out.set(V2_SIGNATURE, 0);
  out[12] = header.command === "local" ? V2_VER_CMD_LOCAL : V2_VER_CMD_PROXY;
  out[13] = familyByte(header.family);
  out[14] = payload.length >> 8;
  out[15] = payload.length & 0xff;
  out.set(payload, V2_FIXED_LENGTH);
  if (header.command === "proxy" && header.tlvs.crc32c !== null) {
    // The CRC TLV is last: its value is the final 4 bytes, computed while they are still zero.
    new DataView(out.buffer).setUint32(out.length - 4, crc32c(out));
  }
  return out;
}
