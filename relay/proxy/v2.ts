/** PROXY protocol v2: the binary header (16 fixed bytes, then `len` bytes of addresses and TLVs). */
import type { Endpoint } from "../../src/connection.ts";
import { formatIPv4, formatIPv6 } from "../../src/net/ip.ts";
import { crc32c } from "./crc32c.ts";
import { V2_SIGNATURE } from "./signature.ts";
import { decodeTlvs } from "./tlv.ts";
import type { Decoded, ProxyCommand, ProxyFamily, ProxyHeader } from "./types.ts";
import { emptyTlvs } from "./types.ts";

export const V2_FIXED_LENGTH = 16;
export const V2_VER_CMD_LOCAL = 0x20;
export const V2_VER_CMD_PROXY = 0x21;

interface FamilyInfo {
  family: ProxyFamily;
  /** Size of the address block that must follow the fixed header for a PROXY command. */
  addressBytes: number;
}

const FAMILIES: ReadonlyMap<number, FamilyInfo> = new Map([
  [0x00, { family: "unspec", addressBytes: 0 }],
  [0x11, { family: "tcp4", addressBytes: 12 }],
  [0x12, { family: "udp4", addressBytes: 12 }],
  [0x21, { family: "tcp6", addressBytes: 36 }],
  [0x22, { family: "udp6", addressBytes: 36 }],
  [0x31, { family: "unix-stream", addressBytes: 216 }],
  [0x32, { family: "unix-dgram", addressBytes: 216 }],
]);

/** The fam byte for a family (inverse of the table above). */
export function familyByte(family: ProxyFamily): number {
  for (const [byte, info] of FAMILIES) if (info.family === family) return byte;
  throw new RangeError(`unknown family ${family}`);
}

/** Address block size for a family. */
export function addressBytesFor(family: ProxyFamily): number {
  return FAMILIES.get(familyByte(family))!.addressBytes;
}

/** Checks byte 13 (ver_cmd); null when acceptable. */
export function checkVerCmd(verCmd: number): string | null {
  if (verCmd >> 4 !== 2) return `unsupported PROXY v2 version nibble ${verCmd >> 4}`;
  if (verCmd !== V2_VER_CMD_LOCAL && verCmd !== V2_VER_CMD_PROXY) {
    return `unsupported PROXY v2 command 0x${verCmd.toString(16)}`;
  }
  return null;
}

/** Checks byte 14 (fam); null when acceptable. */
export function checkFamily(fam: number): string | null {
  return FAMILIES.has(fam)
    ? null
    : `unsupported PROXY v2 address family 0x${fam.toString(16).padStart(2, "0")}`;
}

/** Checks the length field against the header cap and the address block; null when acceptable. */
export function checkLength(
  verCmd: number,
  fam: number,
  length: number,
  maxHeaderBytes: number,
): string | null {
  if (V2_FIXED_LENGTH + length > maxHeaderBytes) {
    return `PROXY v2 header of ${V2_FIXED_LENGTH + length} bytes exceeds the ${maxHeaderBytes}-byte limit`;
  }
  const info = FAMILIES.get(fam);
  if (verCmd === V2_VER_CMD_PROXY && info !== undefined && length < info.addressBytes) {
    return `PROXY v2 length ${length} is shorter than the ${info.addressBytes}-byte ${info.family} address block`;
  }
  return null;
}

function port(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

function addresses(header: Uint8Array, family: ProxyFamily): [Endpoint, Endpoint] | null {
  const a = V2_FIXED_LENGTH;
  if (family === "tcp4" || family === "udp4") {
    return [
      { address: formatIPv4(header.subarray(a, a + 4)), port: port(header, a + 8) },
      { address: formatIPv4(header.subarray(a + 4, a + 8)), port: port(header, a + 10) },
    ];
  }
  if (family === "tcp6" || family === "udp6") {
    return [
      { address: formatIPv6(header.subarray(a, a + 16)), port: port(header, a + 32) },
      { address: formatIPv6(header.subarray(a + 16, a + 32)), port: port(header, a + 34) },
    ];
  }
  // AF_UNSPEC and AF_UNIX: the socket's own addresses apply.
  return null;
}

function verifyCrc(header: Uint8Array, valueOffset: number, expected: number): boolean {
  let crc = crc32c(header.subarray(0, valueOffset));
  crc = crc32c(new Uint8Array(4), crc);
  crc = crc32c(header.subarray(valueOffset + 4), crc);
  return crc === expected;
}

/** Decodes one complete v2 header: exactly 16 + len bytes. */
export function decodeV2(header: Uint8Array): Decoded<ProxyHeader> {
  if (header.length < V2_FIXED_LENGTH) return { ok: false, reason: "truncated PROXY v2 header" };
  for (let i = 0; i < V2_SIGNATURE.length; i++) {
    if (header[i] !== V2_SIGNATURE[i]) return { ok: false, reason: "invalid PROXY v2 signature" };
  }
  const verCmd = header[12]!;
  const fam = header[13]!;
  const length = port(header, 14);
  const problem =
    checkVerCmd(verCmd) ?? checkFamily(fam) ?? checkLength(verCmd, fam, length, Number.POSITIVE_INFINITY);
  if (problem !== null) return { ok: false, reason: problem };
  if (header.length !== V2_FIXED_LENGTH + length) return { ok: false, reason: "PROXY v2 length mismatch" };
  const info = FAMILIES.get(fam)!;
  const command: ProxyCommand = verCmd === V2_VER_CMD_LOCAL ? "local" : "proxy";
  if (command === "local") {
    // LOCAL: the payload is skipped unread; the connection's own addresses apply.
    return {
      ok: true,
      value: { version: 2, command, family: info.family, source: null, destination: null, tlvs: emptyTlvs() },
    };
  }
  const pair = addresses(header, info.family);
  const decoded = decodeTlvs(header, V2_FIXED_LENGTH + info.addressBytes, header.length);
  if (!decoded.ok) return decoded;
  const { tlvs, crcOffset } = decoded.value;
  if (crcOffset !== null && !verifyCrc(header, crcOffset, tlvs.crc32c!)) {
    return { ok: false, reason: "PROXY v2 CRC32C mismatch" };
  }
  return {
    ok: true,
    value: {
      version: 2,
      command,
      family: info.family,
      source: pair === null ? null : pair[0],
      destination: pair === null ? null : pair[1],
      tlvs,
    },
  };
}
