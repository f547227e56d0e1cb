/** PROXY v2 TLV decoding (type u8, length u16 BE, value). */
import type { Decoded, ProxyTlvs, RawTlv, SslTlv } from "./types.ts";
import { emptyTlvs } from "./types.ts";

export const PP2_TYPE_ALPN = 0x01;
export const PP2_TYPE_AUTHORITY = 0x02;
export const PP2_TYPE_CRC32C = 0x03;
export const PP2_TYPE_NOOP = 0x04;
export const PP2_TYPE_UNIQUE_ID = 0x05;
export const PP2_TYPE_SSL = 0x20;
export const PP2_SUBTYPE_SSL_VERSION = 0x21;
export const PP2_SUBTYPE_SSL_CN = 0x22;
export const PP2_SUBTYPE_SSL_CIPHER = 0x23;
export const PP2_SUBTYPE_SSL_SIG_ALG = 0x24;
export const PP2_SUBTYPE_SSL_KEY_ALG = 0x25;
export const PP2_TYPE_NETNS = 0x30;

export const PP2_CLIENT_SSL = 0x01;
export const PP2_CLIENT_CERT_CONN = 0x02;
export const PP2_CLIENT_CERT_SESS = 0x04;

export const MAX_UNIQUE_ID_BYTES = 128;

/** Top-level types this module interprets; anything else lands in `unknown`. */
export const KNOWN_TLV_TYPES: readonly number[] = [
  PP2_TYPE_ALPN,
  PP2_TYPE_AUTHORITY,
  PP2_TYPE_CRC32C,
  PP2_TYPE_NOOP,
  PP2_TYPE_UNIQUE_ID,
  PP2_TYPE_SSL,
  PP2_TYPE_NETNS,
];

/** SSL sub-TLV types this module interprets. */
export const KNOWN_SSL_SUBTYPES: readonly number[] = [
  PP2_SUBTYPE_SSL_VERSION,
  PP2_SUBTYPE_SSL_CN,
  PP2_SUBTYPE_SSL_CIPHER,
  PP2_SUBTYPE_SSL_SIG_ALG,
  PP2_SUBTYPE_SSL_KEY_ALG,
];

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class TlvError extends Error {}

function text(value: Uint8Array, what: string): string {
  try {
    return utf8.decode(value);
  } catch {
    throw new TlvError(`${what} TLV is not valid UTF-8`);
  }
}

function hex(value: Uint8Array): string {
  let out = "";
  for (const b of value) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Walks the TLVs of `bytes[start, end)`, calling `visit(type, valueOffset, length)`; each must fit. */
function walk(
  bytes: Uint8Array,
  start: number,
  end: number,
  what: string,
  visit: (type: number, offset: number, length: number) => void,
): void {
  let offset = start;
  while (offset < end) {
    if (end - offset < 3) throw new TlvError(`truncated ${what} header`);
    const type = bytes[offset]!;
    const length = (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
    const valueOffset = offset + 3;
    if (valueOffset + length > end) throw new TlvError(`${what} 0x${type.toString(16)} overruns its parent`);
    visit(type, valueOffset, length);
    offset = valueOffset + length;
  }
}

function once(seen: Set<number>, type: number, what: string): void {
  if (seen.has(type)) throw new TlvError(`duplicate ${what} 0x${type.toString(16)}`);
  seen.add(type);
}

function decodeSsl(value: Uint8Array): SslTlv {
  if (value.length < 5) throw new TlvError("SSL TLV shorter than 5 bytes");
  const ssl: SslTlv = {
    client: value[0]!,
    verify: ((value[1]! << 24) | (value[2]! << 16) | (value[3]! << 8) | value[4]!) >>> 0,
    version: null,
    cn: null,
    cipher: null,
    sigAlg: null,
    keyAlg: null,
    unknown: [],
  };
  const seen = new Set<number>();
  walk(value, 5, value.length, "SSL sub-TLV", (type, offset, length) => {
    const sub = value.subarray(offset, offset + length);
    if (!KNOWN_SSL_SUBTYPES.includes(type)) {
      ssl.unknown.push({ type, value: sub.slice() });
      return;
    }
    once(seen, type, "SSL sub-TLV");
    if (type === PP2_SUBTYPE_SSL_VERSION) ssl.version = text(sub, "SSL version");
    else if (type === PP2_SUBTYPE_SSL_CN) ssl.cn = text(sub, "SSL CN");
    else if (type === PP2_SUBTYPE_SSL_CIPHER) ssl.cipher = text(sub, "SSL cipher");
    else if (type === PP2_SUBTYPE_SSL_SIG_ALG) ssl.sigAlg = text(sub, "SSL sig_alg");
    else ssl.keyAlg = text(sub, "SSL key_alg");
  });
  return ssl;
}

export interface DecodedTlvs {
  tlvs: ProxyTlvs;
  /** Offset (within the bytes given) of the 4-byte CRC32C value, or null when there is none. */
  crcOffset: number | null;
}

/** Decodes the TLVs in `header[start, end)`. Offsets refer to `header`, so the caller can zero the CRC. */
export function decodeTlvs(header: Uint8Array, start: number, end: number): Decoded<DecodedTlvs> {
  const tlvs = emptyTlvs();
  let crcOffset: number | null = null;
  const seen = new Set<number>();
  const unknown: RawTlv[] = tlvs.unknown;
  try {
    walk(header, start, end, "TLV", (type, offset, length) => {
      const value = header.subarray(offset, offset + length);
      if (!KNOWN_TLV_TYPES.includes(type)) {
        unknown.push({ type, value: value.slice() });
        return;
      }
      if (type === PP2_TYPE_NOOP) return;
      once(seen, type, "TLV");
      switch (type) {
        case PP2_TYPE_ALPN:
          tlvs.alpn = text(value, "ALPN");
          break;
        case PP2_TYPE_AUTHORITY:
          tlvs.authority = text(value, "AUTHORITY");
          break;
        case PP2_TYPE_CRC32C:
          if (length !== 4) throw new TlvError("CRC32C TLV length is not 4");
          tlvs.crc32c = ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
          crcOffset = offset;
          break;
        case PP2_TYPE_UNIQUE_ID:
          if (length > MAX_UNIQUE_ID_BYTES) throw new TlvError("UNIQUE_ID TLV longer than 128 bytes");
          tlvs.uniqueId = hex(value);
          break;
        case PP2_TYPE_SSL:
          tlvs.ssl = decodeSsl(value);
          break;
        default:
          tlvs.netns = text(value, "NETNS");
      }
    });
  } catch (error) {
    if (error instanceof TlvError) return { ok: false, reason: error.message };
    throw error;
  }
  return { ok: true, value: { tlvs, crcOffset } };
}
