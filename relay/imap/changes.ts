/** Message changes: STORE, EXPUNGE, UID EXPUNGE, COPY, MOVE (UIDPLUS, CONDSTORE's UNCHANGEDSINCE). */

import { tokenText } from "../../src/imap/parser.ts";
import { expandSet, formatSet, parseSequenceSet } from "../../src/imap/sequence.ts";
import { bad, type Command, no, ok, type Result, type SessionContext } from "./context.ts";
import { inName, storeFailure } from "./mailboxes.ts";
import { resolveSet } from "./targets.ts";

const FLAG_RE = /^(\\(Answered|Flagged|Deleted|Seen|Draft)|[^\s(){%*"\\\]]+)$/i;

function canonicalFlag(f: string): string {
  const m = /^\\(answered|flagged|deleted|seen|draft)$/i.exec(f);
  if (!m) return f;
  const w = m[1] as string;
  return `\\${w[0]?.toUpperCase()}${w.slice(1).toLowerCase()}`;
}

export function parseFlags(tokens: Array<{ kind: string }>): string[] | null {
  const out: string[] = [];
  for (const t of tokens) {
    const v = tokenText(t as never);
    if (v === null || !FLAG_RE.test(v)) return null;
    out.push(canonicalFlag(v));
  }
  return out;
}

export async function store(s: SessionContext, cmd: Command): Promise<Result> {
  const sel = s.selected;
  if (!sel) return bad("No mailbox selected");
  if (sel.readOnly) return no("[READ-ONLY] Mailbox is read-only");
  const args = [...cmd.args];
  const setText = tokenText(args.shift());
  let unchangedSince: number | null = null;
  if (args[0]?.kind === "list") {
    const mods = args.shift() as { items: Array<{ kind: string }> };
    const name = (tokenText(mods.items[0] as never) ?? "").toUpperCase();
    unchangedSince = Number(tokenText(mods.items[1] as never));
    if (name !== "UNCHANGEDSINCE" || !Number.isSafeInteger(unchangedSince)) return bad("Bad STORE modifier");
    s.condstore();
  }
  const op = (tokenText(args.shift()) ?? "").toUpperCase();
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
  if (setText === null || !m || args.length === 0) return bad("Bad STORE arguments");
  const flagToks = args.length === 1 && args[0]?.kind === "list" ? args[0].items : args;
  const flags = parseFlags(flagToks);
  if (!flags) return bad("Bad flags");
  const targets = resolveSet(sel, setText, cmd.uid);
  if (targets === null) return bad("Invalid sequence set");
  if (targets.length === 0) return ok("STORE completed");
  const kind = m[1] === "+" ? "add" : m[1] === "-" ? "remove" : "replace";
  try {
    const res = await s.store.store(
      s.user,
      sel.id,
      formatSet(targets.map((t) => t.uid)),
      kind,
      flags,
      unchangedSince,
    );
    const modified = new Set(expandSet(res.modified));
    const silent = m[2] !== undefined;
    const lines: string[] = [];
    for (const msg of res.messages) {
      const changed = sel.update(msg);
      const seq = sel.seqOf(msg.uid);
      if (seq === 0 || modified.has(msg.uid)) continue;
      // .SILENT still reports the new MODSEQ under CONDSTORE (RFC 7162 §3.2).
      if (silent && !(s.enabled.has("CONDSTORE") && changed)) continue;
      const parts = [];
      if (cmd.uid) parts.push(`UID ${msg.uid}`);
      if (!silent) parts.push(`FLAGS (${msg.flags.join(" ")})`);
      if (s.enabled.has("CONDSTORE")) parts.push(`MODSEQ (${msg.modseq})`);
      lines.push(`* ${seq} FETCH (${parts.join(" ")})`);
    }
    for (const l of lines) s.line(l);
    if (modified.size > 0) {
      const numbers = cmd.uid ? [...modified] : [...modified].map((u) => sel.seqOf(u));
      return ok(`[MODIFIED ${formatSet(numbers)}] Conditional STORE failed for some messages`);
    }
    return ok(`${cmd.uid ? "UID " : ""}STORE completed`);
  } catch (err) {
    return storeFailure(err, "STORE");
  }
}

export async function expunge(s: SessionContext, cmd: Command, silent = false): Promise<Result> {
  const sel = s.selected;
  if (!sel) return bad("No mailbox selected");
  if (sel.readOnly) return silent ? ok("CLOSE completed") : no("[READ-ONLY] Mailbox is read-only");
  let uids: string | null = null;
  if (cmd.uid) {
    const text = tokenText(cmd.args[0]);
    const max = sel.uids.length ? (sel.uids[sel.uids.length - 1] as number) : 0;
    const ranges = text === null ? null : parseSequenceSet(text, max);
    if (!ranges) return bad("UID EXPUNGE needs a UID set");
    uids = formatSet(sel.uids.filter((u) => ranges.some(([a, b]) => u >= a && u <= b)));
    if (uids === "") return ok("UID EXPUNGE completed");
  }
  try {
    const res = await s.store.expunge(s.user, sel.id, uids);
    const gone = sel.removeUids(expandSet(res.expunged));
    if (!silent) {
      // Reported in ascending UID order, each number as it is after the previous removals.
      s.expunged(gone.seqs, gone.uids);
      await s.sync(true);
    }
    return ok(`${cmd.uid ? "UID " : ""}EXPUNGE completed`);
  } catch (err) {
    return storeFailure(err, "EXPUNGE");
  }
}

export async function copy(s: SessionContext, cmd: Command): Promise<Result> {
  const sel = s.selected;
  if (!sel) return bad("No mailbox selected");
  const move = cmd.name === "MOVE";
  if (move && sel.readOnly) return no("[READ-ONLY] Mailbox is read-only");
  const setText = tokenText(cmd.args[0]);
  const dest = tokenText(cmd.args[1]);
  if (setText === null || dest === null) return bad(`${cmd.name} needs a set and a mailbox`);
  const targets = resolveSet(sel, setText, cmd.uid);
  if (targets === null) return bad("Invalid sequence set");
  if (targets.length === 0) return ok(`${cmd.name} completed`);
  try {
    const res = await s.store.copy(
      s.user,
      sel.id,
      formatSet(targets.map((t) => t.uid)),
      inName(s, dest),
      move,
    );
    if (res.from.length === 0) return ok(`${cmd.name} completed`);
    const code = `COPYUID ${res.uidValidity} ${formatSet(res.from)} ${formatSet(res.to)}`;
    if (!move) return ok(`[${code}] COPY completed`);
    s.line(`* OK [${code}] Moved`);
    const gone = sel.removeUids(res.from);
    s.expunged(gone.seqs, gone.uids);
    return ok("MOVE completed");
  } catch (err) {
    const r = storeFailure(err, cmd.name);
    return r.text.startsWith("[NONEXISTENT]") ? no(`[TRYCREATE] ${cmd.name}: no such mailbox`) : r;
  }
}
