/**
 * A message's IMAP view, computed once from the raw bytes (at ingest or APPEND) and stored as compact
 * JSON in `blobs.structure`: ENVELOPE, BODY and BODYSTRUCTURE already in wire form, plus the MIME
 * tree's byte offsets, so FETCH answers structure items without the body and cuts sections without
 * re-parsing. Blobs stored without it get the same view computed on demand.
 */
import { bodyStructure } from "./bodystructure.ts";
import { encodeToString } from "./encode.ts";
import { envelope } from "./envelope.ts";
import { headerValue, type MimePart, parseMime } from "./mime.ts";

/** One MIME entity: [start, bodyStart, end] offsets, its kind, transfer encoding and children. */
export interface StoredPart {
  /** start, bodyStart, end */
  o: [number, number, number];
  /** "m" multipart, "r" message/rfc822 or message/global, absent for a leaf. */
  k?: "m" | "r";
  /** Content-Transfer-Encoding, lower-cased, when not 7bit (BINARY needs it). */
  x?: string;
  c?: StoredPart[];
  /** The encapsulated message of a "r" part. */
  r?: StoredPart;
}

export interface MessageStructure {
  v: 1;
  /** ENVELOPE, BODY and BODYSTRUCTURE as they go on the wire (literals counted in UTF-8 bytes). */
  env: string;
  body: string;
  bs: string;
  part: StoredPart;
}

/** A structure plus the MIME tree FETCH's section and BINARY code walk. */
export interface MessageView {
  env: string;
  body: string;
  bs: string;
  root: MimePart;
}

function storePart(p: MimePart): StoredPart {
  const out: StoredPart = { o: [p.start, p.bodyStart, p.end] };
  const cte = (headerValue(p.headers, "content-transfer-encoding") ?? "").trim().toLowerCase();
  if (cte && cte !== "7bit") out.x = cte;
  if (p.type === "multipart") {
    out.k = "m";
    out.c = p.children.map(storePart);
  } else if (p.message) {
    out.k = "r";
    out.r = storePart(p.message);
  }
  return out;
}

function loadPart(s: StoredPart, depth: number): MimePart {
  if (depth > 60 || !Array.isArray(s.o) || s.o.length !== 3) throw new Error("bad stored part");
  const [start, bodyStart, end] = s.o;
  const part: MimePart = {
    start,
    bodyStart,
    end,
    headers: s.x ? [{ name: "content-transfer-encoding", value: s.x }] : [],
    type: s.k === "m" ? "multipart" : s.k === "r" ? "message" : "application",
    subtype: s.k === "r" ? "rfc822" : "octet-stream",
    params: [],
    children: s.k === "m" ? (s.c ?? []).map((c) => loadPart(c, depth + 1)) : [],
    message: s.k === "r" && s.r ? loadPart(s.r, depth + 1) : null,
  };
  return part;
}

export function viewFromMime(raw: Uint8Array, root: MimePart): MessageView {
  return {
    env: encodeToString(envelope(root.headers)),
    body: encodeToString(bodyStructure(raw, root, false)),
    bs: encodeToString(bodyStructure(raw, root, true)),
    root,
  };
}

/** Computes the stored structure of a raw message. */
export function computeStructure(raw: Uint8Array): MessageStructure {
  const root = parseMime(raw);
  const v = viewFromMime(raw, root);
  return { v: 1, env: v.env, body: v.body, bs: v.bs, part: storePart(root) };
}

/** The JSON stored in `blobs.structure`. */
export function structureJson(raw: Uint8Array): string {
  return JSON.stringify(computeStructure(raw));
}

/** Reads a stored structure; null when absent, of another version or malformed (compute instead). */
export function loadStructure(json: unknown, size: number): MessageView | null {
  if (!json) return null;
  try {
    const s = (typeof json === "string" ? JSON.parse(json) : json) as MessageStructure;
    if (s.v !== 1 || typeof s.env !== "string" || typeof s.bs !== "string" || typeof s.body !== "string")
      return null;
    if (!Array.isArray(s.part?.o) || s.part.o[2] !== size) return null;
    // The part tree is only built when a section or BINARY item asks for it.
    let root: MimePart | null = null;
    return {
      env: s.env,
      body: s.body,
      bs: s.bs,
      get root() {
        root ??= loadPart(s.part, 0);
        return root;
      },
    };
  } catch {
    return null;
  }
}
