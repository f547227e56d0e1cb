/**
 * A MIME structure walker with exact byte offsets, for BODYSTRUCTURE and BODY[section]. It does not
 * decode anything: it finds where each entity's header and body start and end in the raw bytes.
 */

export interface Header {
  /** Lower-cased name. */
  name: string;
  /** Unfolded value, leading white space trimmed. */
  value: string;
}

export interface MimePart {
  /** Offset of the entity's header block. */
  start: number;
  /** Offset of the body (just after the blank line, or `end` when there is none). */
  bodyStart: number;
  end: number;
  headers: Header[];
  type: string;
  subtype: string;
  params: Array<[string, string]>;
  children: MimePart[];
  /** The encapsulated message of a message/rfc822 (or message/global) part. */
  message: MimePart | null;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();
const MAX_DEPTH = 50;

export function decodeHeaderText(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

/** Index just after the blank line ending the header block starting at `start`, or -1. */
function findBodyStart(raw: Uint8Array, start: number, end: number): number {
  // An entity that starts with an empty line has no header fields.
  if (raw[start] === 0x0a) return start + 1;
  if (raw[start] === 0x0d && raw[start + 1] === 0x0a) return start + 2;
  for (let i = start; i < end; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a && i + 1 < end) return i + 2;
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a && i + 2 < end) return i + 3;
  }
  return -1;
}

export function parseHeaders(block: Uint8Array): Header[] {
  const text = decodeHeaderText(block);
  const out: Header[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === "") continue;
    if ((line[0] === " " || line[0] === "\t") && out.length > 0) {
      const last = out[out.length - 1] as Header;
      last.value += line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    out.push({
      name: line.slice(0, colon).trim().toLowerCase(),
      value: line.slice(colon + 1).replace(/^[ \t]+/, ""),
    });
  }
  for (const h of out) h.value = h.value.replace(/\r?\n/g, "");
  return out;
}

export function headerValue(headers: Header[], name: string): string | null {
  return headers.find((h) => h.name === name)?.value ?? null;
}

/** Parameters after the first `;` of a structured header value (RFC 2045), values unquoted. */
export function parseParams(value: string): { main: string; params: Array<[string, string]> } {
  const params: Array<[string, string]> = [];
  let i = value.indexOf(";");
  const main = (i < 0 ? value : value.slice(0, i)).replace(/\([^)]*\)/g, "").trim();
  while (i >= 0 && i < value.length) {
    i++;
    while (i < value.length && /[\s;]/.test(value[i] as string)) i++;
    const eq = value.indexOf("=", i);
    if (eq < 0) break;
    const name = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (j < value.length && /\s/.test(value[j] as string)) j++;
    let v = "";
    if (value[j] === '"') {
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === "\\" && j + 1 < value.length) j++;
        v += value[j];
        j++;
      }
      j++;
      const semi = value.indexOf(";", j);
      i = semi;
    } else {
      const semi = value.indexOf(";", j);
      v = (semi < 0 ? value.slice(j) : value.slice(j, semi)).trim();
      i = semi;
    }
    if (name) params.push([name, v]);
    if (i < 0) break;
  }
  return { main, params };
}

function lineStartsWith(raw: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > raw.length) return false;
  for (let k = 0; k < prefix.length; k++) if (raw[at + k] !== prefix[k]) return false;
  return true;
}

/** Splits a multipart body into its parts' [start, end) ranges. */
function splitMultipart(
  raw: Uint8Array,
  start: number,
  end: number,
  boundary: string,
): Array<[number, number]> {
  const delim = new TextEncoder().encode(`--${boundary}`);
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let i = start;
  while (i < end) {
    let lineEnd = raw.indexOf(0x0a, i);
    if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
    if (raw[i] === 0x2d && lineStartsWith(raw, i, delim) && i + delim.length <= end) {
      const after = i + delim.length;
      const closing = raw[after] === 0x2d && raw[after + 1] === 0x2d;
      // The CRLF before the delimiter belongs to the delimiter.
      let partEnd = i;
      if (partEnd > start && raw[partEnd - 1] === 0x0a) partEnd--;
      if (partEnd > start && raw[partEnd - 1] === 0x0d) partEnd--;
      if (partStart >= 0) parts.push([partStart, Math.max(partStart, partEnd)]);
      if (closing) return parts;
      partStart = lineEnd < end ? lineEnd + 1 : end;
    }
    i = lineEnd + 1;
  }
  if (partStart >= 0) parts.push([partStart, end]);
  return parts;
}

/** Just the top-level entity's header/body split: enough for BODY[], BODY[HEADER…] and BODY[TEXT]. */
export function rootOnly(raw: Uint8Array): MimePart {
  const found = findBodyStart(raw, 0, raw.length);
  return {
    start: 0,
    bodyStart: found < 0 ? raw.length : found,
    end: raw.length,
    headers: [],
    type: "text",
    subtype: "plain",
    params: [],
    children: [],
    message: null,
  };
}

export function parseMime(raw: Uint8Array): MimePart {
  return parseEntity(raw, 0, raw.length, "text/plain", 0);
}

function parseEntity(
  raw: Uint8Array,
  start: number,
  end: number,
  defaultType: string,
  depth: number,
): MimePart {
  const found = findBodyStart(raw, start, end);
  const bodyStart = found < 0 ? end : found;
  const headers = parseHeaders(raw.subarray(start, bodyStart));
  const ct = headerValue(headers, "content-type");
  const parsed = ct ? parseParams(ct) : null;
  let [type, subtype] = (parsed?.main ?? "").toLowerCase().split("/") as [string, string | undefined];
  let params = parsed?.params ?? [];
  if (!type || !subtype) {
    [type, subtype] = defaultType.split("/") as [string, string];
    params = defaultType === "text/plain" ? [["charset", "us-ascii"]] : [];
  }
  const part: MimePart = {
    start,
    bodyStart,
    end,
    headers,
    type,
    subtype,
    params,
    children: [],
    message: null,
  };
  if (depth >= MAX_DEPTH) return part;
  if (type === "multipart") {
    const boundary = params.find(([k]) => k === "boundary")?.[1];
    if (boundary) {
      const childDefault = subtype === "digest" ? "message/rfc822" : "text/plain";
      for (const [s, e] of splitMultipart(raw, bodyStart, end, boundary)) {
        part.children.push(parseEntity(raw, s, e, childDefault, depth + 1));
      }
    }
  } else if (type === "message" && (subtype === "rfc822" || subtype === "global")) {
    part.message = parseEntity(raw, bodyStart, end, "text/plain", depth + 1);
  }
  return part;
}

/** Number of lines in a body, as IMAP reports them: line breaks counted, as Dovecot does. */
export function countLines(raw: Uint8Array, start: number, end: number): number {
  let n = 0;
  let i = raw.indexOf(0x0a, start);
  while (i >= 0 && i < end) {
    n++;
    i = raw.indexOf(0x0a, i + 1);
  }
  return n;
}

export function textOf(raw: Uint8Array, start: number, end: number): string {
  return utf8.decode(raw.subarray(start, end));
}
