/** FETCH and UID FETCH: items parsed once, metadata in one store call, bodies in size-bounded batches. */
import type { FetchRow } from "../../src/contract-imap.ts";
import { decodedBody } from "../../src/imap/binary.ts";
import { formatDateTime } from "../../src/imap/dates.ts";
import { encodeValue } from "../../src/imap/encode.ts";
import { type MimePart, parseMime, rootOnly } from "../../src/imap/mime.ts";
import { type Token, tokenText } from "../../src/imap/parser.ts";
import { extractSection, locate, parseSection, partial, type SectionSpec } from "../../src/imap/section.ts";
import { expandSet, formatSet, inRanges, parseSequenceSet } from "../../src/imap/sequence.ts";
import { loadStructure, type MessageView, viewFromMime } from "../../src/imap/structure.ts";
import { bad, type Command, no, ok, type Result, type SessionContext } from "./context.ts";
import { storeFailure } from "./mailboxes.ts";
import { resolveSet } from "./targets.ts";

type Item =
  | { k: "UID" | "FLAGS" | "INTERNALDATE" | "RFC822.SIZE" | "ENVELOPE" | "BODYSTRUCTURE" | "BODY" | "MODSEQ" }
  | {
      k: "section";
      peek: boolean;
      /** Response name, e.g. "BODY[HEADER]" or "RFC822.TEXT". */
      label: string;
      spec: SectionSpec;
      origin: number | null;
      length: number | null;
    }
  | {
      /** BINARY[part], BINARY.PEEK[part] and BINARY.SIZE[part] (RFC 3516). */
      k: "binary";
      peek: boolean;
      size: boolean;
      path: number[];
      origin: number | null;
      length: number | null;
    };

const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};
const SIMPLE = new Set([
  "UID",
  "FLAGS",
  "INTERNALDATE",
  "RFC822.SIZE",
  "ENVELOPE",
  "BODYSTRUCTURE",
  "BODY",
  "MODSEQ",
]);
const SECTION_RE = /^(BODY\.PEEK|BODY)\[([^\]]*)\](?:<(\d+)(?:\.(\d+))?>)?$/i;
const BINARY_RE = /^BINARY(\.PEEK|\.SIZE)?\[((?:[1-9]\d*)(?:\.[1-9]\d*)*)?\](?:<(\d+)(?:\.(\d+))?>)?$/i;
const RAW_BATCH_BYTES = 4 * 1024 * 1024;
/** Shared, never written: one empty body instead of an allocation per message. */
const EMPTY = new Uint8Array(0);

export function parseItems(tokens: Token[]): Item[] | null {
  const atoms: string[] = [];
  for (const t of tokens) {
    const v = tokenText(t);
    if (v === null) return null;
    atoms.push(v);
  }
  const out: Item[] = [];
  for (const a of atoms) {
    const up = a.toUpperCase();
    const macro = MACROS[up];
    if (macro && tokens.length === 1) {
      for (const m of macro) out.push({ k: m as "FLAGS" });
      continue;
    }
    if (SIMPLE.has(up)) {
      out.push({ k: up as "FLAGS" });
      continue;
    }
    if (up === "RFC822" || up === "RFC822.HEADER" || up === "RFC822.TEXT") {
      const what = up === "RFC822" ? "" : up === "RFC822.HEADER" ? "HEADER" : "TEXT";
      out.push({
        k: "section",
        peek: up === "RFC822.HEADER",
        label: up,
        spec: { path: [], what, fields: [] },
        origin: null,
        length: null,
      });
      continue;
    }
    const b = BINARY_RE.exec(a);
    if (b) {
      const kind = b[1]?.toUpperCase();
      if (kind === ".SIZE" && b[3] !== undefined) return null;
      out.push({
        k: "binary",
        peek: kind !== undefined,
        size: kind === ".SIZE",
        path: b[2] ? b[2].split(".").map(Number) : [],
        origin: b[3] === undefined ? null : Number(b[3]),
        length: b[4] === undefined ? null : Number(b[4]),
      });
      continue;
    }
    const m = SECTION_RE.exec(a);
    if (!m) return null;
    const spec = parseSection(m[2] ?? "");
    if (!spec) return null;
    const origin = m[3] === undefined ? null : Number(m[3]);
    const length = m[4] === undefined ? null : Number(m[4]);
    const section = (m[2] ?? "").replace(
      /^([\d.]*)(header\.fields\.not|header\.fields|header|text|mime)/i,
      (_x, p: string, w: string) => p + w.toUpperCase(),
    );
    out.push({
      k: "section",
      peek: m[1]?.toUpperCase() === "BODY.PEEK",
      label: `BODY[${section}]`,
      spec,
      origin,
      length,
    });
  }
  return out;
}

/** Items that need the stored view: structure items, and sections below the top level. */
function needsView(items: Item[]): boolean {
  return items.some(
    (i) =>
      (i.k === "section" && (i.spec.path.length > 0 || i.spec.what === "MIME")) ||
      i.k === "binary" ||
      i.k === "ENVELOPE" ||
      i.k === "BODYSTRUCTURE" ||
      i.k === "BODY",
  );
}

/** Items that cut bytes out of the message. */
function needsRaw(items: Item[]): boolean {
  return items.some((i) => i.k === "section" || i.k === "binary");
}

/** Views for a slice of rows: from the relay's cache, the rest in one store call (no bodies). */
async function loadViews(
  s: SessionContext,
  mailboxId: number,
  rows: FetchRow[],
): Promise<Map<number, MessageView>> {
  const out = new Map<number, MessageView>();
  const missing: FetchRow[] = [];
  for (const r of rows) {
    const v = s.views.get(r.blobId);
    if (v) out.set(r.uid, v);
    else missing.push(r);
  }
  if (missing.length === 0) return out;
  const res = await s.store.fetch(s.user, mailboxId, formatSet(missing.map((r) => r.uid)), false, true);
  for (const r of res.rows) {
    const v = loadStructure(r.structure, r.size);
    if (!v) continue;
    out.set(r.uid, v);
    s.views.set(r.blobId, v);
  }
  return out;
}

/** Raw bytes for rows, from the LRU or the store in batches of at most RAW_BATCH_BYTES. */
async function loadRaw(
  s: SessionContext,
  mailboxId: number,
  rows: FetchRow[],
): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  let batch: number[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    for (const r of await s.store.bodies(s.user, mailboxId, formatSet(batch))) {
      s.cache.set(r.blobId, r.raw);
      out.set(r.uid, r.raw);
    }
    batch = [];
    bytes = 0;
  };
  for (const r of rows) {
    const cached = s.cache.get(r.blobId);
    if (cached) {
      out.set(r.uid, cached);
      continue;
    }
    if (bytes + r.size > RAW_BATCH_BYTES) await flush();
    batch.push(r.uid);
    bytes += r.size;
  }
  await flush();
  return out;
}

export async function fetch(s: SessionContext, cmd: Command): Promise<Result> {
  const sel = s.selected;
  if (!sel) return bad("No mailbox selected");
  const setText = tokenText(cmd.args[0]);
  const itemTok = cmd.args[1];
  if (setText === null || !itemTok) return bad("FETCH needs a set and items");
  const items = parseItems(itemTok.kind === "list" ? itemTok.items : [itemTok]);
  if (!items) return bad("Bad FETCH items");
  let changedSince: number | null = null;
  let vanished = false;
  const mods = cmd.args[2];
  if (mods) {
    if (mods.kind !== "list") return bad("Bad FETCH modifiers");
    for (let i = 0; i < mods.items.length; i++) {
      const name = (tokenText(mods.items[i]) ?? "").toUpperCase();
      if (name === "CHANGEDSINCE") {
        changedSince = Number(tokenText(mods.items[i + 1]));
        if (!Number.isSafeInteger(changedSince)) return bad("Bad CHANGEDSINCE");
        i++;
      } else if (name === "VANISHED") vanished = true;
      else return bad(`Unsupported FETCH modifier ${name}`);
    }
    // RFC 7162 §3.2.6: VANISHED only with UID FETCH, CHANGEDSINCE and QRESYNC enabled.
    if (vanished && (!cmd.uid || changedSince === null || !s.enabled.has("QRESYNC")))
      return bad("VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC");
    s.condstore();
  }
  if (cmd.uid && !items.some((i) => i.k === "UID")) items.unshift({ k: "UID" });
  if ((changedSince !== null || s.enabled.has("CONDSTORE")) && !items.some((i) => i.k === "MODSEQ")) {
    if (changedSince !== null || items.some((i) => i.k === "FLAGS")) items.push({ k: "MODSEQ" });
  }
  const targets = resolveSet(sel, setText, cmd.uid);
  if (targets === null) return bad("Invalid sequence set");
  if (vanished) {
    const wanted = parseSequenceSet(setText, Math.max(sel.uidNext - 1, 1)) ?? [];
    try {
      const changes = await s.store.changes(s.user, sel.id, changedSince as number, true);
      const gone = expandSet(changes.vanished ?? "").filter((u) => inRanges(wanted, u));
      if (gone.length > 0) s.line(`* VANISHED (EARLIER) ${formatSet(gone)}`);
    } catch (err) {
      return storeFailure(err, "FETCH");
    }
  }
  if (targets.length === 0) return ok("FETCH completed");
  const wantView = needsView(items);
  const wantRaw = needsRaw(items);
  let rows: FetchRow[];
  try {
    rows = (await s.store.fetch(s.user, sel.id, formatSet(targets.map((t) => t.uid)), false)).rows;
  } catch (err) {
    return storeFailure(err, "FETCH");
  }
  if (changedSince !== null) rows = rows.filter((r) => r.modseq > (changedSince as number));
  const byUid = new Map(rows.map((r) => [r.uid, r]));

  // Non-PEEK body fetches set \Seen first, so the response carries the new flags.
  const setsSeen = !sel.readOnly && items.some((i) => (i.k === "section" || i.k === "binary") && !i.peek);
  const newlySeen = new Set<number>();
  if (setsSeen) {
    const unseen = rows.filter((r) => !r.flags.includes("\\Seen")).map((r) => r.uid);
    if (unseen.length > 0) {
      try {
        const res = await s.store.store(s.user, sel.id, formatSet(unseen), "add", ["\\Seen"], null);
        for (const m of res.messages) {
          const row = byUid.get(m.uid);
          if (row) {
            row.flags = m.flags;
            row.modseq = m.modseq;
          }
          sel.update(m);
          newlySeen.add(m.uid);
        }
      } catch (err) {
        return storeFailure(err, "FETCH");
      }
    }
  }

  let unknownCte = false;
  const ordered = targets.filter((t) => byUid.has(t.uid));
  // Bodies are loaded and written batch by batch, so memory stays bounded.
  for (let start = 0; start < ordered.length; ) {
    let end = start;
    let bytes = 0;
    while (end < ordered.length && (end === start || bytes < RAW_BATCH_BYTES || !wantRaw)) {
      bytes += byUid.get((ordered[end] as { uid: number }).uid)?.size ?? 0;
      end++;
      if (!wantRaw && end - start >= 1000) break;
    }
    const slice = ordered.slice(start, end);
    start = end;
    let raws = new Map<number, Uint8Array>();
    let views = new Map<number, MessageView>();
    const sliceRows = slice.map((t) => byUid.get(t.uid) as FetchRow);
    try {
      if (wantView) views = await loadViews(s, sel.id, sliceRows);
      // Bodies only for byte items, or to compute the view of a blob stored without one.
      const rawRows = wantRaw ? sliceRows : sliceRows.filter((r) => wantView && !views.has(r.uid));
      if (rawRows.length > 0) raws = await loadRaw(s, sel.id, rawRows);
    } catch (err) {
      return storeFailure(err, "FETCH");
    }
    const chunks: Array<string | Uint8Array> = [];
    for (const t of slice) {
      const row = byUid.get(t.uid) as FetchRow;
      const raw = raws.get(t.uid);
      const seq = sel.seqOf(t.uid) || t.seq;
      chunks.push(`* ${seq} FETCH (`);
      const withFlags =
        newlySeen.has(t.uid) && !items.some((i) => i.k === "FLAGS")
          ? [...items, { k: "FLAGS" as const }]
          : items;
      const raw0 = raw ?? EMPTY;
      let view = wantView ? (views.get(t.uid) ?? null) : null;
      if (wantView && !view) {
        // A blob stored before views were recorded: computed once here, then cached.
        view = viewFromMime(raw0, parseMime(raw0));
        if (raw) s.views.set(row.blobId, view);
      }
      // BODY[], BODY[HEADER…], BODY[TEXT] of the message itself only need its header/body split;
      // found only when a section asks (a structure-only FETCH of 10,000 messages never does).
      let root: MimePart | null = null;
      const rootPart = () => {
        root ??= view ? view.root : rootOnly(raw0);
        return root;
      };
      withFlags.forEach((item, idx) => {
        if (idx > 0) chunks.push(" ");
        switch (item.k) {
          case "UID":
            chunks.push(`UID ${row.uid}`);
            break;
          case "FLAGS":
            chunks.push(`FLAGS (${row.flags.join(" ")})`);
            break;
          case "MODSEQ":
            chunks.push(`MODSEQ (${row.modseq})`);
            break;
          case "INTERNALDATE":
            chunks.push(`INTERNALDATE "${formatDateTime(row.internalDate)}"`);
            break;
          case "RFC822.SIZE":
            chunks.push(`RFC822.SIZE ${row.size}`);
            break;
          case "ENVELOPE":
          case "BODYSTRUCTURE":
          case "BODY": {
            const v = view as MessageView;
            chunks.push(`${item.k} `, item.k === "ENVELOPE" ? v.env : item.k === "BODY" ? v.body : v.bs);
            break;
          }
          case "binary": {
            const bytes = raw0;
            const mime = (view as MessageView).root;
            const part = item.path.length === 0 ? mime : locate(mime, item.path);
            const decoded = part && (part.type === "multipart" ? null : decodedBody(bytes, part));
            const name = `[${item.path.join(".")}]`;
            if (part && decoded === null && part.type !== "multipart") unknownCte = true;
            const value = decoded ?? EMPTY;
            if (item.size) {
              chunks.push(`BINARY.SIZE${name} ${value.length}`);
              break;
            }
            const cut = partial(value, item.origin, item.length);
            chunks.push(`BINARY${name}${item.origin !== null ? `<${item.origin}>` : ""} `);
            if (cut.includes(0)) chunks.push(`~{${cut.length}}\r\n`, cut);
            else encodeValue({ literal: cut }, chunks);
            break;
          }
          case "section": {
            const full = extractSection(raw0, rootPart(), item.spec) ?? EMPTY;
            const cut = partial(full, item.origin, item.length);
            chunks.push(`${item.label}${item.origin !== null ? `<${item.origin}>` : ""} `);
            encodeValue({ literal: cut }, chunks);
            break;
          }
        }
      });
      chunks.push(")\r\n");
    }
    await s.write(chunks);
  }
  if (unknownCte) return no("[UNKNOWN-CTE] Some parts use an unknown Content-Transfer-Encoding");
  return ok(`${cmd.uid ? "UID " : ""}FETCH completed`);
}
