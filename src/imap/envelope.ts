/** ENVELOPE (RFC 3501 §7.4.2) from a header block, with RFC 5322 address lists parsed into IMAP form. */
import { encodeToString, type ImapValue } from "./encode.ts";
import { type Header, headerValue } from "./mime.ts";

type Tok = { t: "word"; v: string } | { t: "quoted"; v: string } | { t: "special"; v: string };

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(") {
      let depth = 0;
      for (; i < s.length; i++) {
        if (s[i] === "\\") i++;
        else if (s[i] === "(") depth++;
        else if (s[i] === ")" && --depth === 0) break;
      }
      i++;
    } else if (c === '"') {
      let v = "";
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\") i++;
        v += s[i] ?? "";
        i++;
      }
      i++;
      out.push({ t: "quoted", v });
    } else if ("<>@,;:".includes(c)) {
      out.push({ t: "special", v: c });
      i++;
    } else {
      let j = i;
      while (j < s.length && !/[\s()"<>@,;:]/.test(s[j] as string)) j++;
      // A stray ")" (no comment open) is dropped; without this step the loop would never advance.
      if (j === i) {
        i++;
        continue;
      }
      out.push({ t: "word", v: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

export interface Address {
  name: string | null;
  mailbox: string | null;
  host: string | null;
  /** Group start (name set, mailbox = group name, host null) or end marker. */
  group?: "start" | "end";
}

/** Parses an address-list header value into mailboxes and group markers. */
export function parseAddressList(value: string): Address[] {
  const toks = lex(value);
  const out: Address[] = [];
  let i = 0;
  let inGroup = false;
  const phraseOf = (ts: Tok[]): string | null => (ts.length ? ts.map((t) => t.v).join(" ") : null);
  while (i < toks.length) {
    const words: Tok[] = [];
    while (i < toks.length && !(toks[i]?.t === "special" && ",;:<".includes((toks[i] as Tok).v))) {
      words.push(toks[i] as Tok);
      i++;
    }
    const sep = toks[i];
    if (sep?.t === "special" && sep.v === ":" && !inGroup) {
      out.push({ name: null, mailbox: phraseOf(words), host: null, group: "start" });
      inGroup = true;
      i++;
      continue;
    }
    if (sep?.t === "special" && sep.v === "<") {
      i++;
      const inner: Tok[] = [];
      while (i < toks.length && !(toks[i]?.t === "special" && (toks[i] as Tok).v === ">")) {
        inner.push(toks[i] as Tok);
        i++;
      }
      i++;
      // Source routes (@a,@b:) are dropped.
      const colon = inner.findIndex((t) => t.t === "special" && t.v === ":");
      out.push({ name: phraseOf(words), ...splitAddr(colon >= 0 ? inner.slice(colon + 1) : inner) });
      while (i < toks.length && !(toks[i]?.t === "special" && ",;".includes((toks[i] as Tok).v))) i++;
    } else if (words.length > 0) {
      out.push({ name: null, ...splitAddr(words) });
    }
    const end = toks[i];
    if (end?.t === "special" && end.v === ";" && inGroup) {
      out.push({ name: null, mailbox: null, host: null, group: "end" });
      inGroup = false;
    }
    i++;
  }
  if (inGroup) out.push({ name: null, mailbox: null, host: null, group: "end" });
  return out;
}

function splitAddr(ts: Tok[]): { mailbox: string | null; host: string | null } {
  const at = ts.findIndex((t) => t.t === "special" && t.v === "@");
  if (at < 0) return { mailbox: ts.map((t) => t.v).join("") || null, host: null };
  // The local part as its text, quotes removed (as Dovecot sends it).
  const local = ts.slice(0, at).map((t) => t.v);
  return {
    mailbox: local.join("") || null,
    host:
      ts
        .slice(at + 1)
        .map((t) => t.v)
        .join("") || null,
  };
}

function addressesValue(headers: Header[], name: string): ImapValue {
  const v = headerValue(headers, name);
  if (v === null) return null;
  const list = parseAddressList(v);
  if (list.length === 0) return null;
  const items = list.map((a): ImapValue => {
    if (a.group === "start") return [null, null, a.mailbox, null];
    if (a.group === "end") return [null, null, null, null];
    return [a.name, null, a.mailbox, a.host];
  });
  // "(" 1*address ")": addresses follow each other without spaces.
  return { atom: `(${items.map(encodeToString).join("")})` };
}

export function envelope(headers: Header[]): ImapValue {
  const from = addressesValue(headers, "from");
  const sender = addressesValue(headers, "sender") ?? from;
  const replyTo = addressesValue(headers, "reply-to") ?? from;
  return [
    headerValue(headers, "date"),
    headerValue(headers, "subject"),
    from,
    sender,
    replyTo,
    addressesValue(headers, "to"),
    addressesValue(headers, "cc"),
    addressesValue(headers, "bcc"),
    headerValue(headers, "in-reply-to"),
    headerValue(headers, "message-id"),
  ];
}
