/**
 * Incremental IMAP command parser. Bytes go in with `push`, complete commands come out of `next`,
 * one at a time, so the session decides when to read the next one (IDLE, AUTHENTICATE, STARTTLS).
 *
 * Limits: a command line (the text between literals) is capped at `maxLine` bytes; a literal is capped
 * at `maxLiteral` (or `maxAppendLiteral` inside APPEND). An oversized literal is never allocated: a
 * synchronising one is refused before the client sends it, a non-synchronising one is skipped.
 */

export type Token =
  | { kind: "atom"; value: string }
  | { kind: "string"; value: string }
  | { kind: "literal"; value: Uint8Array }
  | { kind: "list"; items: Token[] };

export type ParserEvent =
  /** A complete command: tag, upper-cased name (UID commands keep "UID" as the name) and arguments. */
  | { type: "command"; tag: string; name: string; args: Token[] }
  /** The client waits for `+` before sending a synchronising literal. */
  | { type: "continue"; size: number }
  /** A complete raw line (line mode: AUTHENTICATE responses, IDLE's DONE). */
  | { type: "line"; text: string }
  /** A command that cannot be served; `tag` is "*" when it could not be read. */
  | { type: "error"; tag: string; code: "BAD" | "NO"; text: string };

export interface ParserLimits {
  maxLine: number;
  maxLiteral: number;
  maxAppendLiteral: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxLine: 64 * 1024,
  maxLiteral: 64 * 1024,
  maxAppendLiteral: 25 * 1024 * 1024,
};

type Segment = { text: string } | { literal: Uint8Array };

const decoder = new TextDecoder();
/** A literal announced at the end of a line: {n}, {n+} (LITERAL+), or literal8 ~{n} (BINARY). */
const LITERAL_AT_END = /~?\{(\d{1,20})(\+|-)?\}$/;

export class CommandParser {
  readonly #limits: ParserLimits;
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** How far the current line has been scanned for CRLF. */
  #scanned = 0;
  #segments: Segment[] = [];
  #lineBytes = 0;
  /** Literal being filled. */
  #literal: Uint8Array | null = null;
  #literalFill = 0;
  /** Bytes still to throw away (refused non-synchronising literal), then discard to end of line. */
  #skip = 0;
  #discardLine = false;
  #discardTag = "*";
  #pendingError: ParserEvent | null = null;
  /** Bytes thrown away so far for the refused command (overlong line, refused literal). */
  #discarded = 0;
  #overflowHead = "";
  #overflowTail = "";
  /** Next `next()` returns raw lines instead of commands. */
  lineMode = false;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#start > 0 && this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      this.#scanned = 0;
    }
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const size = Math.max(live + chunk.length, Math.min(this.#buf.length * 2, live + chunk.length + 65536));
      const next = new Uint8Array(Math.max(size, 1024));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#scanned -= this.#start;
      this.#start = 0;
      this.#end = live;
      this.#buf = next;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Drops everything buffered (after STARTTLS: no command injection). */
  reset(): void {
    this.#start = this.#end = this.#scanned = 0;
    this.#segments = [];
    this.#lineBytes = 0;
    this.#literal = null;
    this.#skip = 0;
    this.#discardLine = false;
    this.#pendingError = null;
    this.#discarded = 0;
  }

  /**
   * Bytes discarded so far for a refused command whose end has not come yet (an overlong line, a refused
   * non-synchronising literal): memory stays bounded, but the session may give up on such a client.
   */
  get discarded(): number {
    return this.#discarded;
  }

  /** Bytes buffered but not consumed yet. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  next(): ParserEvent | null {
    for (;;) {
      if (this.#literal) {
        const want = this.#literal.length - this.#literalFill;
        const take = Math.min(want, this.#end - this.#start);
        this.#literal.set(this.#buf.subarray(this.#start, this.#start + take), this.#literalFill);
        this.#literalFill += take;
        this.#start += take;
        this.#scanned = this.#start;
        if (this.#literalFill < this.#literal.length) return null;
        this.#segments.push({ literal: this.#literal });
        this.#literal = null;
        continue;
      }
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, this.#end - this.#start);
        this.#discarded += take;
        this.#skip -= take;
        this.#start += take;
        this.#scanned = this.#start;
        if (this.#skip > 0) return null;
        continue;
      }
      const line = this.#readLine();
      if (line === null) return null;
      if (line === "overflow") {
        const head = this.#overflowHead;
        const tag = this.#segments.length > 0 ? tagOf(this.#segments) : tagOf([{ text: head }]);
        this.#segments = [];
        this.#lineBytes = 0;
        const err: ParserEvent = { type: "error", tag, code: "BAD", text: "Command line too long" };
        const m = LITERAL_AT_END.exec(this.#overflowTail);
        if (m?.[2] === "+") {
          // The command goes on after a literal the client sends anyway: skip both.
          this.#skip = Number(m[1]);
          this.#discardLine = true;
          this.#pendingError = err;
          continue;
        }
        return err;
      }
      if (this.#discardLine) {
        // Still inside a refused command: its later literals are skipped as well.
        const m = LITERAL_AT_END.exec(line);
        if (m?.[2] === "+") {
          this.#skip = Number(m[1]);
          continue;
        }
        this.#discardLine = false;
        this.#discarded = 0;
        const err = this.#pendingError ?? {
          type: "error" as const,
          tag: this.#discardTag,
          code: "BAD" as const,
          text: "Command line too long",
        };
        this.#pendingError = null;
        return err;
      }
      if (this.lineMode && this.#segments.length === 0) return { type: "line", text: line };
      const m = LITERAL_AT_END.exec(line);
      if (!m) {
        this.#segments.push({ text: line });
        const segments = this.#segments;
        this.#segments = [];
        this.#lineBytes = 0;
        return buildCommand(segments);
      }
      this.#segments.push({ text: `${line.slice(0, m.index)}{}` });
      const size = Number(m[1]);
      const sync = m[2] === undefined;
      const isAppend = /^\S+\s+APPEND\s/i.test(textOf(this.#segments));
      const cap = isAppend ? this.#limits.maxAppendLiteral : this.#limits.maxLiteral;
      if (size > cap || (m[2] === "-" && size > 4096)) {
        const tag = tagOf(this.#segments);
        this.#segments = [];
        this.#lineBytes = 0;
        const err: ParserEvent = {
          type: "error",
          tag,
          code: isAppend ? "NO" : "BAD",
          text: isAppend ? "[TOOBIG] Message too large" : "Literal too large",
        };
        if (sync && m[2] === undefined) return err;
        this.#skip = size;
        this.#discardLine = true;
        this.#pendingError = err;
        continue;
      }
      this.#literal = new Uint8Array(size);
      this.#literalFill = 0;
      if (sync) return { type: "continue", size };
    }
  }

  /** One CRLF-terminated line (without CRLF), "overflow" past the cap, or null when incomplete. */
  #readLine(): string | "overflow" | null {
    const buf = this.#buf;
    let i = Math.max(this.#scanned, this.#start);
    for (; i < this.#end; i++) {
      if (buf[i] === 0x0a) {
        let stop = i;
        if (stop > this.#start && buf[stop - 1] === 0x0d) stop--;
        const len = stop - this.#start;
        const tooLong = this.#lineBytes + len > this.#limits.maxLine;
        const line = buf.subarray(this.#start, stop);
        const text = tooLong ? "" : decoder.decode(line);
        if (tooLong) {
          this.#overflowHead = decoder.decode(line.subarray(0, 64));
          this.#overflowTail = decoder.decode(line.subarray(Math.max(0, line.length - 32)));
        }
        this.#start = i + 1;
        this.#scanned = this.#start;
        this.#lineBytes += len;
        if (this.#discardLine) return tooLong ? this.#overflowTail : text;
        if (tooLong) return "overflow";
        return text;
      }
    }
    this.#scanned = i;
    if (this.#end - this.#start > this.#limits.maxLine) {
      // Throw the bytes away and keep looking for the end of this line.
      if (!this.#discardLine) {
        const head = decoder.decode(buf.subarray(this.#start, Math.min(this.#end, this.#start + 64)));
        this.#discardTag = /^([^\s(){%*"\\\]]+)\s/.exec(head)?.[1] ?? "*";
        if (this.#segments.length > 0) this.#discardTag = tagOf(this.#segments);
        this.#segments = [];
        this.#lineBytes = 0;
        this.#discardLine = true;
      }
      this.#discarded += this.#end - this.#start;
      this.#start = this.#end;
      this.#scanned = this.#end;
    }
    return null;
  }
}

function textOf(segments: Segment[]): string {
  return segments.map((s) => ("text" in s ? s.text : "")).join("");
}

function tagOf(segments: Segment[]): string {
  const first = segments[0];
  if (!first || !("text" in first)) return "*";
  return /^([^\s(){%*"\\\]]+)\s/.exec(first.text)?.[1] ?? "*";
}

function buildCommand(segments: Segment[]): ParserEvent {
  const first = segments[0];
  const text = first && "text" in first ? first.text : "";
  const head = /^([^\s(){%*"\\\]]+) ([A-Za-z]+)(?: |$)/.exec(text);
  if (!head?.[1] || !head[2]) {
    const tag = /^([^\s(){%*"\\\]]+)/.exec(text)?.[1] ?? "*";
    return { type: "error", tag: text.trim() === "" ? "*" : tag, code: "BAD", text: "Missing command" };
  }
  const tag = head[1];
  const rest: Segment[] = [{ text: text.slice(head[0].length) }, ...segments.slice(1)];
  try {
    const args = tokenize(rest);
    return { type: "command", tag, name: head[2].toUpperCase(), args };
  } catch (err) {
    return { type: "error", tag, code: "BAD", text: (err as Error).message };
  }
}

/** Splits the argument text (with literals between segments) into tokens. */
export function tokenize(segments: Segment[]): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  let seg = 0;
  let pos = 0;
  const cur = (): string => {
    const s = segments[seg];
    return s && "text" in s ? s.text : "";
  };
  for (;;) {
    const text = cur();
    const top = stack[stack.length - 1] as Token[];
    if (pos >= text.length) {
      seg++;
      const lit = segments[seg];
      if (!lit) break;
      if ("literal" in lit) {
        top.push({ kind: "literal", value: lit.literal });
        seg++;
        pos = 0;
        continue;
      }
      pos = 0;
      continue;
    }
    const c = text[pos] as string;
    if (c === " ") {
      pos++;
      continue;
    }
    if (c === "(") {
      const list: Token = { kind: "list", items: [] };
      top.push(list);
      stack.push(list.items);
      pos++;
      continue;
    }
    if (c === ")") {
      if (stack.length === 1) throw new Error("Unbalanced parenthesis");
      stack.pop();
      pos++;
      continue;
    }
    if (c === "{") {
      // The placeholder left where a literal's {n} was: the literal follows in the next segment.
      if (text.slice(pos) === "{}") {
        pos = text.length;
        continue;
      }
      throw new Error("Unexpected literal");
    }
    if (c === '"') {
      let out = "";
      let i = pos + 1;
      for (; i < text.length; i++) {
        const ch = text[i] as string;
        if (ch === "\\") {
          const nx = text[i + 1];
          if (nx !== "\\" && nx !== '"') throw new Error("Bad escape in quoted string");
          out += nx;
          i++;
        } else if (ch === '"') break;
        else out += ch;
      }
      if (i >= text.length) throw new Error("Unterminated quoted string");
      top.push({ kind: "string", value: out });
      pos = i + 1;
      continue;
    }
    // An atom; brackets may hold spaces and lists (BODY[HEADER.FIELDS (A B)]<0.10>).
    let i = pos;
    let depth = 0;
    for (; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === "[") depth++;
      else if (ch === "]") depth = Math.max(0, depth - 1);
      else if (depth === 0 && (ch === " " || ch === "(" || ch === ")" || ch === '"' || ch === "{")) break;
      else if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
        throw new Error("Control character in atom");
    }
    if (depth > 0) throw new Error("Unbalanced bracket");
    top.push({ kind: "atom", value: text.slice(pos, i) });
    pos = i;
  }
  if (stack.length !== 1) throw new Error("Unbalanced parenthesis");
  return root;
}

/** A token's text: atoms, quoted strings and literals (UTF-8); null for lists. */
export function tokenText(t: Token | undefined): string | null {
  if (!t) return null;
  if (t.kind === "atom" || t.kind === "string") return t.value;
  if (t.kind === "literal") return decoder.decode(t.value);
  return null;
}
