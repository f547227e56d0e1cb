/**
 * BODY[section]<partial> (RFC 3501 §6.4.5): parsing the section spec and cutting the exact bytes.
 */
import { type MimePart, parseHeaders } from "./mime.ts";

export interface SectionSpec {
  /** Part numbers, e.g. [1, 2] for "1.2"; empty for the whole message. */
  path: number[];
  /** What of the addressed entity: all of it, its header, some header fields, its text, or its MIME header. */
  what: "" | "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";
  fields: string[];
}

/** Parses the text between [ and ]; null when invalid. */
export function parseSection(text: string): SectionSpec | null {
  const m =
    /^((?:[1-9]\d*\.)*(?:[1-9]\d*))?(?:\.?(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?(?:\s*\(([^)]*)\))?$/i.exec(
      text.trim(),
    );
  if (!m) return null;
  const path = m[1] ? m[1].split(".").map(Number) : [];
  const what = (m[2]?.toUpperCase() ?? "") as SectionSpec["what"];
  if (m[1] && m[2] === undefined && text.trim().includes(".") && !/^[\d.]+$/.test(text.trim())) return null;
  if (what === "MIME" && path.length === 0) return null;
  const fields = m[3]
    ? m[3]
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map((f) => f.replace(/^"|"$/g, ""))
    : [];
  if (what.startsWith("HEADER.FIELDS") !== (m[3] !== undefined)) return null;
  if (what.startsWith("HEADER.FIELDS") && fields.length === 0) return null;
  return { path, what, fields };
}

/** Follows part numbers from the root entity; null when the part does not exist. */
export function locate(root: MimePart, path: number[]): MimePart | null {
  let cur = root;
  for (const n of path) {
    let container = cur;
    if (container.message) container = container.message;
    if (container.type === "multipart") {
      const child = container.children[n - 1];
      if (!child) return null;
      cur = child;
    } else {
      if (n !== 1) return null;
      cur = container;
    }
  }
  return cur;
}

function filterHeaderFields(block: Uint8Array, fields: string[], not: boolean): Uint8Array {
  const wanted = new Set(fields.map((f) => f.toLowerCase()));
  const out: number[] = [];
  let i = 0;
  let keep = false;
  while (i < block.length) {
    let e = block.indexOf(0x0a, i);
    e = e < 0 ? block.length : e + 1;
    const first = block[i];
    const blank = first === 0x0a || (first === 0x0d && block[i + 1] === 0x0a);
    if (blank) break;
    if (first !== 0x20 && first !== 0x09) {
      let c = i;
      while (c < e && block[c] !== 0x3a) c++;
      const name = new TextDecoder().decode(block.subarray(i, c)).trim().toLowerCase();
      keep = c < e && wanted.has(name) !== not;
    }
    if (keep) for (let k = i; k < e; k++) out.push(block[k] as number);
    i = e;
  }
  out.push(0x0d, 0x0a);
  return Uint8Array.from(out);
}

/** The bytes of a section, or null when it does not exist (the caller answers with an empty string). */
export function extractSection(raw: Uint8Array, root: MimePart, spec: SectionSpec): Uint8Array | null {
  const part = locate(root, spec.path);
  if (!part) return null;
  if (spec.what === "") {
    if (spec.path.length === 0) return raw;
    return raw.subarray(part.bodyStart, part.end);
  }
  if (spec.what === "MIME") return raw.subarray(part.start, part.bodyStart);
  // HEADER/TEXT of a nested message/rfc822 part refer to the encapsulated message.
  const msg = spec.path.length === 0 ? part : part.message;
  if (!msg) return null;
  const header = raw.subarray(msg.start, msg.bodyStart);
  if (spec.what === "TEXT") return raw.subarray(msg.bodyStart, msg.end);
  if (spec.what === "HEADER") return header;
  return filterHeaderFields(header, spec.fields, spec.what === "HEADER.FIELDS.NOT");
}

/** Applies <origin.length>. */
export function partial(bytes: Uint8Array, origin: number | null, length: number | null): Uint8Array {
  if (origin === null) return bytes;
  const start = Math.min(origin, bytes.length);
  return bytes.subarray(start, length === null ? bytes.length : Math.min(bytes.length, start + length));
}

export { parseHeaders };
