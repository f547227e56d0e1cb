/** PROXY protocol v1: the human-readable one-line header. */
import type { Endpoint } from "../../src/connection.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../../src/net/ip.ts";
import type { Decoded, ProxyHeader } from "./types.ts";
import { emptyTlvs } from "./types.ts";

/** Maximum v1 line length, `PROXY ` and CRLF included. */
export const V1_MAX_LENGTH = 107;

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

/** What may follow `PROXY ` (checked while the line is still arriving). */
const PROTOCOL_STARTS = ["TCP4 ", "TCP6 ", "UNKNOWN ", "UNKNOWN\r"];

/** True while `afterSignature` (the bytes after `PROXY `, at most 8 inspected) can still start a valid line. */
export function isPlausibleV1Start(afterSignature: string): boolean {
  const head = afterSignature.slice(0, 8);
  return PROTOCOL_STARTS.some((p) => p.startsWith(head) || head.startsWith(p));
}

function parsePort(text: string): number | null {
  if (!PORT.test(text)) return null;
  const value = Number(text);
  return value <= 65535 ? value : null;
}

function parseEndpoint(family: "TCP4" | "TCP6", address: string, port: string): Endpoint | string {
  let canonical: string;
  if (family === "TCP4") {
    const bytes = parseIPv4(address);
    if (bytes === null) return `invalid IPv4 address "${address}"`;
    canonical = formatIPv4(bytes);
  } else {
    // A dotless, colonless string would be rejected by parseIPv6 anyway; this check gives a clearer reason.
    if (!address.includes(":")) return `TCP6 carries a non-IPv6 address "${address}"`;
    const bytes = parseIPv6(address);
    if (bytes === null) return `invalid IPv6 address "${address}"`;
    canonical = formatIPv6(bytes);
  }
  const value = parsePort(port);
  if (value === null) return `invalid port "${port}"`;
  return { address: canonical, port: value };
}

/** Decodes one complete v1 line, `PROXY ` through CRLF. */
export function decodeV1(line: Uint8Array): Decoded<ProxyHeader> {
  if (line.length > V1_MAX_LENGTH) return { ok: false, reason: "v1 header longer than 107 bytes" };
  if (line.length < 8 || line[line.length - 2] !== 0x0d || line[line.length - 1] !== 0x0a) {
    return { ok: false, reason: "v1 header does not end with CRLF" };
  }
  let text = "";
  for (let i = 0; i < line.length - 2; i++) {
    const b = line[i]!;
    if (b < 0x20 || b > 0x7e) return { ok: false, reason: "v1 header contains a control or non-ASCII byte" };
    text += String.fromCharCode(b);
  }
  if (!text.startsWith("PROXY ")) return { ok: false, reason: "invalid v1 signature" };
  const body = text.slice(6);
  if (body.startsWith("UNKNOWN")) {
    const after = body.slice(7);
    if (after !== "" && !after.startsWith(" ")) return { ok: false, reason: "invalid v1 protocol" };
    return {
      ok: true,
      value: {
        version: 1,
        command: "proxy",
        family: "unspec",
        source: null,
        destination: null,
        tlvs: emptyTlvs(),
      },
    };
  }
  const fields = body.split(" ");
  const protocol = fields[0];
  if (protocol !== "TCP4" && protocol !== "TCP6") return { ok: false, reason: "invalid v1 protocol" };
  if (fields.length !== 5 || fields.some((f) => f === "")) {
    return { ok: false, reason: "v1 header must be five fields separated by single spaces" };
  }
  const source = parseEndpoint(protocol, fields[1]!, fields[3]!);
  if (typeof source === "string") return { ok: false, reason: source };
  const destination = parseEndpoint(protocol, fields[2]!, fields[4]!);
  if (typeof destination === "string") return { ok: false, reason: destination };
  return {
    ok: true,
    value: {
      version: 1,
      command: "proxy",
      family: protocol === "TCP4" ? "tcp4" : "tcp6",
      source,
      destination,
      tlvs: emptyTlvs(),
    },
  };
}
