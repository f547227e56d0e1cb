/** SEARCH and UID SEARCH, with ESEARCH's RETURN (MIN MAX COUNT ALL) and CONDSTORE's MODSEQ. */
import type { FetchRow } from "../../src/contract-imap.ts";
import { tokenText } from "../../src/imap/parser.ts";
import {
  matches,
  needsRaw,
  parseSearch,
  RawView,
  type SearchKey,
  SearchSyntaxError,
  usesModseq,
} from "../../src/imap/search.ts";
import { formatSet } from "../../src/imap/sequence.ts";
import { bad, type Command, no, ok, type Result, type SessionContext } from "./context.ts";
import { storeFailure } from "./mailboxes.ts";

const RAW_BATCH_BYTES = 4 * 1024 * 1024;

export async function search(s: SessionContext, cmd: Command): Promise<Result> {
  const sel = s.selected;
  if (!sel) return bad("No mailbox selected");
  const args = [...cmd.args];
  let returns: string[] | null = null;
  if ((tokenText(args[0]) ?? "").toUpperCase() === "RETURN" && args[1]?.kind === "list") {
    returns = args[1].items.map((t) => (tokenText(t) ?? "").toUpperCase());
    if (returns.length === 0) returns = ["ALL"];
    if (returns.some((r) => !["MIN", "MAX", "COUNT", "ALL", "SAVE"].includes(r)))
      return bad("Bad RETURN option");
    args.splice(0, 2);
  }
  if ((tokenText(args[0]) ?? "").toUpperCase() === "CHARSET") {
    const cs = (tokenText(args[1]) ?? "").toUpperCase();
    if (!["UTF-8", "US-ASCII"].includes(cs)) return no("[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
    args.splice(0, 2);
  }
  let key: SearchKey;
  try {
    key = parseSearch(args);
  } catch (err) {
    if (err instanceof SearchSyntaxError) return bad(err.message);
    throw err;
  }
  if (usesModseq(key)) s.condstore();
  // IMAP4rev2 has no SEARCH response: every result is an ESEARCH (RFC 9051 §7.3.4).
  if (returns === null && s.enabled.has("IMAP4rev2")) returns = ["ALL"];
  if (sel.uids.length === 0) {
    if (returns?.includes("SAVE")) sel.saved = [];
    return finish(s, cmd, returns, [], 0);
  }
  let rows: FetchRow[];
  try {
    rows = (await s.store.fetch(s.user, sel.id, formatSet(sel.uids), false)).rows;
  } catch (err) {
    return storeFailure(err, "SEARCH");
  }
  const byUid = new Map(rows.map((r) => [r.uid, r]));
  const ctx = {
    maxSeq: sel.exists,
    maxUid: sel.uids[sel.uids.length - 1] as number,
    saved: new Set(sel.saved),
  };
  const wantRaw = needsRaw(key);
  const hits: Array<{ seq: number; uid: number; modseq: number }> = [];
  const present = sel.uids.map((uid, i) => ({ uid, seq: i + 1 })).filter((t) => byUid.has(t.uid));
  for (let start = 0; start < present.length; ) {
    let end = start;
    let bytes = 0;
    while (end < present.length && (!wantRaw || end === start || bytes < RAW_BATCH_BYTES)) {
      bytes += byUid.get((present[end] as { uid: number }).uid)?.size ?? 0;
      end++;
    }
    const slice = present.slice(start, end);
    start = end;
    const raws = new Map<number, Uint8Array>();
    if (wantRaw) {
      const missing: number[] = [];
      for (const t of slice) {
        const c = s.cache.get((byUid.get(t.uid) as FetchRow).blobId);
        if (c) raws.set(t.uid, c);
        else missing.push(t.uid);
      }
      if (missing.length > 0) {
        try {
          for (const r of await s.store.bodies(s.user, sel.id, formatSet(missing))) {
            s.cache.set(r.blobId, r.raw);
            raws.set(r.uid, r.raw);
          }
        } catch (err) {
          return storeFailure(err, "SEARCH");
        }
      }
    }
    for (const t of slice) {
      const row = byUid.get(t.uid) as FetchRow;
      const raw = raws.get(t.uid);
      const msg = {
        seq: t.seq,
        uid: t.uid,
        flags: row.flags,
        internalDate: row.internalDate,
        size: row.size,
        modseq: row.modseq,
      };
      if (await matches(key, msg, ctx, raw ? new RawView(raw) : null))
        hits.push({ seq: t.seq, uid: t.uid, modseq: row.modseq });
    }
  }
  if (returns?.includes("SAVE")) sel.saved = hits.map((h) => h.uid);
  const numbers = hits.map((h) => (cmd.uid ? h.uid : h.seq));
  const maxModseq = usesModseq(key) ? hits.reduce((m, h) => Math.max(m, h.modseq), 0) : 0;
  return finish(s, cmd, returns, numbers, maxModseq);
}

function finish(
  s: SessionContext,
  cmd: Command,
  returns: string[] | null,
  numbers: number[],
  maxModseq: number,
): Result {
  const modseq = maxModseq > 0 ? ` (MODSEQ ${maxModseq})` : "";
  if (returns === null) {
    s.line(`* SEARCH${numbers.length ? ` ${numbers.join(" ")}` : ""}${numbers.length ? modseq : ""}`);
  } else if (returns.length === 1 && returns[0] === "SAVE") {
    // SAVE alone: the result is kept for "$", nothing is sent (RFC 5182 §2.4).
  } else {
    const parts = [`* ESEARCH (TAG "${cmd.tag}")`];
    if (cmd.uid) parts.push("UID");
    if (returns.includes("MIN") && numbers.length) parts.push(`MIN ${Math.min(...numbers)}`);
    if (returns.includes("MAX") && numbers.length) parts.push(`MAX ${Math.max(...numbers)}`);
    if (returns.includes("ALL") && numbers.length) parts.push(`ALL ${formatSet(numbers)}`);
    if (returns.includes("COUNT")) parts.push(`COUNT ${numbers.length}`);
    if (maxModseq > 0 && numbers.length) parts.push(`MODSEQ ${maxModseq}`);
    s.line(parts.join(" "));
  }
  return ok(`${cmd.uid ? "UID " : ""}SEARCH completed`);
}
