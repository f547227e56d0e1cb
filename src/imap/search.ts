/**
 * SEARCH (RFC 3501 §6.4.4, plus CONDSTORE's MODSEQ): the criteria parsed from command tokens into a
 * tree, and evaluated against one message at a time. Header and body keys need the raw message.
 */

import { decodedBody } from "./binary.ts";
import { dayOf, headerDay, parseSearchDate } from "./dates.ts";
import { type Header, headerValue, type MimePart, parseHeaders, parseMime } from "./mime.ts";
import type { Token } from "./parser.ts";
import { tokenText } from "./parser.ts";
import { inRanges, parseSequenceSet, type SeqRange } from "./sequence.ts";

export type SearchKey =
  | { k: "all" }
  | { k: "flag"; flag: string; set: boolean }
  | { k: "new" }
  | { k: "old" }
  | { k: "recent" }
  | { k: "header"; field: string; value: string }
  | { k: "body"; value: string }
  | { k: "text"; value: string }
  | { k: "date"; which: "internal" | "sent"; op: "before" | "on" | "since"; day: number }
  | { k: "size"; op: "larger" | "smaller"; n: number }
  | { k: "seq"; set: string }
  | { k: "uid"; set: string }
  /** SEARCHRES "$" (RFC 5182 §2.1): the UIDs the last SEARCH ... RETURN (SAVE) kept, as seqs or UIDs alike. */
  | { k: "saved" }
  | { k: "modseq"; n: number }
  | { k: "not"; key: SearchKey }
  | { k: "or"; a: SearchKey; b: SearchKey }
  | { k: "and"; keys: SearchKey[] };

export interface SearchMessage {
  seq: number;
  uid: number;
  flags: string[];
  internalDate: number;
  size: number;
  modseq: number;
}

export interface SearchContext {
  /** Highest sequence number and UID, for `*`. */
  maxSeq: number;
  maxUid: number;
  /** The saved search result ("$"), by UID. */
  saved?: ReadonlySet<number>;
}

export class SearchSyntaxError extends Error {}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  DELETED: ["\\Deleted", true],
  DRAFT: ["\\Draft", true],
  FLAGGED: ["\\Flagged", true],
  SEEN: ["\\Seen", true],
  UNANSWERED: ["\\Answered", false],
  UNDELETED: ["\\Deleted", false],
  UNDRAFT: ["\\Draft", false],
  UNFLAGGED: ["\\Flagged", false],
  UNSEEN: ["\\Seen", false],
};

const HEADER_KEYS: Record<string, string> = {
  BCC: "bcc",
  CC: "cc",
  FROM: "from",
  SUBJECT: "subject",
  TO: "to",
};
const DATE_KEYS: Record<string, ["internal" | "sent", "before" | "on" | "since"]> = {
  BEFORE: ["internal", "before"],
  ON: ["internal", "on"],
  SINCE: ["internal", "since"],
  SENTBEFORE: ["sent", "before"],
  SENTON: ["sent", "on"],
  SENTSINCE: ["sent", "since"],
};

/** Parses the criteria (after any CHARSET); throws SearchSyntaxError. */
export function parseSearch(tokens: Token[]): SearchKey {
  let i = 0;
  const str = (): string => {
    const v = tokenText(tokens[i]);
    if (v === null) throw new SearchSyntaxError("Missing search argument");
    i++;
    return v;
  };
  const one = (): SearchKey => {
    const t = tokens[i];
    if (!t) throw new SearchSyntaxError("Missing search key");
    if (t.kind === "list") {
      i++;
      const inner = parseSearch(t.items);
      return inner;
    }
    const word = (tokenText(t) ?? "").toUpperCase();
    i++;
    if (word === "ALL") return { k: "all" };
    const flag = FLAG_KEYS[word];
    if (flag) return { k: "flag", flag: flag[0], set: flag[1] };
    if (word === "NEW") return { k: "new" };
    if (word === "OLD") return { k: "old" };
    if (word === "RECENT") return { k: "recent" };
    if (word === "KEYWORD" || word === "UNKEYWORD")
      return { k: "flag", flag: str(), set: word === "KEYWORD" };
    const hk = HEADER_KEYS[word];
    if (hk) return { k: "header", field: hk, value: str() };
    if (word === "HEADER") {
      const field = str().toLowerCase();
      return { k: "header", field, value: str() };
    }
    if (word === "BODY") return { k: "body", value: str() };
    if (word === "TEXT") return { k: "text", value: str() };
    const dk = DATE_KEYS[word];
    if (dk) {
      const day = parseSearchDate(str());
      if (day === null) throw new SearchSyntaxError("Bad date");
      return { k: "date", which: dk[0], op: dk[1], day };
    }
    if (word === "LARGER" || word === "SMALLER") {
      const n = Number(str());
      if (!Number.isSafeInteger(n) || n < 0) throw new SearchSyntaxError("Bad number");
      return { k: "size", op: word === "LARGER" ? "larger" : "smaller", n };
    }
    if (word === "$") return { k: "saved" };
    if (word === "UID") {
      const set = str();
      if (set === "$") return { k: "saved" };
      if (!parseSequenceSet(set, 1)) throw new SearchSyntaxError("Bad UID set");
      return { k: "uid", set };
    }
    if (word === "MODSEQ") {
      // Optional entry name and type (RFC 7162) before the number.
      if (
        tokens[i + 1] &&
        /^\d+$/.test(tokenText(tokens[i + 2]) ?? "") &&
        !/^\d+$/.test(tokenText(tokens[i]) ?? "")
      )
        i += 2;
      const n = Number(str());
      if (!Number.isSafeInteger(n)) throw new SearchSyntaxError("Bad mod-sequence");
      return { k: "modseq", n };
    }
    if (word === "NOT") return { k: "not", key: one() };
    if (word === "OR") {
      const a = one();
      return { k: "or", a, b: one() };
    }
    if (parseSequenceSet(word, 1)) return { k: "seq", set: word };
    throw new SearchSyntaxError(`Unknown search key ${word}`);
  };
  const keys: SearchKey[] = [];
  while (i < tokens.length) keys.push(one());
  if (keys.length === 0) throw new SearchSyntaxError("Missing search key");
  return keys.length === 1 ? (keys[0] as SearchKey) : { k: "and", keys };
}

export function needsRaw(key: SearchKey): boolean {
  switch (key.k) {
    case "header":
    case "body":
    case "text":
      return true;
    case "date":
      return key.which === "sent";
    case "not":
      return needsRaw(key.key);
    case "or":
      return needsRaw(key.a) || needsRaw(key.b);
    case "and":
      return key.keys.some(needsRaw);
    default:
      return false;
  }
}

export function usesModseq(key: SearchKey): boolean {
  if (key.k === "modseq") return true;
  if (key.k === "not") return usesModseq(key.key);
  if (key.k === "or") return usesModseq(key.a) || usesModseq(key.b);
  if (key.k === "and") return key.keys.some(usesModseq);
  return false;
}

/** Decodes RFC 2047 encoded words, so SUBJECT and FROM match what people see. */
export function decodeWords(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([BbQq])\?([^?]*)\?=(\s+(?==\?))?/g,
    (_m, charset: string, enc: string, text: string) => {
      try {
        let bytes: Uint8Array;
        if (enc.toUpperCase() === "B") {
          bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
        } else {
          const s = text.replace(/_/g, " ");
          const out: number[] = [];
          for (let i = 0; i < s.length; i++) {
            if (s[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
              out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
              i += 2;
            } else out.push(s.charCodeAt(i));
          }
          bytes = Uint8Array.from(out);
        }
        return new TextDecoder(charset.split("*")[0]?.toLowerCase() ?? "utf-8").decode(bytes);
      } catch {
        return _m;
      }
    },
  );
}

/** Lazily parsed views of one raw message. */
export class RawView {
  readonly raw: Uint8Array;
  #headers: Header[] | null = null;
  #text: Promise<string> | null = null;
  constructor(raw: Uint8Array) {
    this.raw = raw;
  }
  get headers(): Header[] {
    if (!this.#headers) {
      let end = this.raw.length;
      for (let i = 0; i + 1 < this.raw.length; i++) {
        if (
          this.raw[i] === 0x0a &&
          (this.raw[i + 1] === 0x0a || (this.raw[i + 1] === 0x0d && this.raw[i + 2] === 0x0a))
        ) {
          end = i + 1;
          break;
        }
      }
      this.#headers = parseHeaders(this.raw.subarray(0, end));
    }
    return this.#headers;
  }
  /** Decoded text of the body parts (transfer encodings and charsets undone). */
  bodyText(): Promise<string> {
    this.#text ??= Promise.resolve(bodyText(this.raw));
    return this.#text;
  }
}

type Decoder = InstanceType<typeof TextDecoder>;
const decoders = new Map<string, Decoder>();
function decoderFor(charset: string): Decoder {
  let d = decoders.get(charset);
  if (!d) {
    try {
      d = new TextDecoder(charset);
    } catch {
      d = new TextDecoder();
    }
    decoders.set(charset, d);
  }
  return d;
}

/**
 * The text SEARCH BODY/TEXT look in: every text part (and those of attached messages) with its
 * transfer encoding and charset undone. One synchronous pass over the MIME walker's offsets.
 */
export function bodyText(raw: Uint8Array): string {
  const out: string[] = [];
  const walk = (p: MimePart, depth: number) => {
    if (depth > 20) return;
    if (p.type === "multipart") for (const c of p.children) walk(c, depth + 1);
    else if (p.message) walk(p.message, depth + 1);
    else if (p.type === "text") {
      const bytes = decodedBody(raw, p) ?? raw.subarray(p.bodyStart, p.end);
      const charset = p.params.find(([k]) => k === "charset")?.[1].toLowerCase() ?? "utf-8";
      out.push(decoderFor(charset === "us-ascii" ? "utf-8" : charset).decode(bytes));
    }
  };
  walk(parseMime(raw), 0);
  return out.join("\n");
}

const has = (hay: string, needle: string) => hay.toLowerCase().includes(needle.toLowerCase());

export async function matches(
  key: SearchKey,
  m: SearchMessage,
  ctx: SearchContext,
  raw: RawView | null,
): Promise<boolean> {
  switch (key.k) {
    case "all":
      return true;
    case "flag":
      return m.flags.includes(key.flag) === key.set;
    case "new":
      return false;
    case "recent":
      return false;
    case "old":
      return true;
    case "size":
      return key.op === "larger" ? m.size > key.n : m.size < key.n;
    case "seq":
      return inRanges(parseSequenceSet(key.set, ctx.maxSeq) as SeqRange[], m.seq);
    case "uid":
      return inRanges(parseSequenceSet(key.set, ctx.maxUid) as SeqRange[], m.uid);
    case "saved":
      return ctx.saved?.has(m.uid) ?? false;
    case "modseq":
      return m.modseq >= key.n;
    case "date": {
      const day =
        key.which === "internal"
          ? dayOf(m.internalDate)
          : headerDay(raw ? headerValue(raw.headers, "date") : null);
      if (day === null) return false;
      return key.op === "before" ? day < key.day : key.op === "on" ? day === key.day : day >= key.day;
    }
    case "header": {
      if (!raw) return false;
      const values = raw.headers.filter((h) => h.name === key.field);
      if (key.value === "") return values.length > 0;
      return values.some((h) => has(decodeWords(h.value), key.value));
    }
    case "body":
      return raw ? has(await raw.bodyText(), key.value) : false;
    case "text":
      if (!raw) return false;
      return (
        raw.headers.some((h) => has(`${h.name}: ${decodeWords(h.value)}`, key.value)) ||
        has(await raw.bodyText(), key.value)
      );
    case "not":
      return !(await matches(key.key, m, ctx, raw));
    case "or":
      return (await matches(key.a, m, ctx, raw)) || (await matches(key.b, m, ctx, raw));
    case "and":
      for (const k of key.keys) if (!(await matches(k, m, ctx, raw))) return false;
      return true;
  }
}
