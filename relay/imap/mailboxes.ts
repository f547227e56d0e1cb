/** Mailbox commands: NAMESPACE, LIST, LSUB, (UN)SUBSCRIBE, CREATE, DELETE, RENAME, STATUS, SELECT, EXAMINE. */
import type { ChangesResponse, MailboxInfo, MailboxStatus } from "../../src/contract-imap.ts";
import { astring } from "../../src/imap/encode.ts";
import { decodeMutf7, encodeMutf7 } from "../../src/imap/mutf7.ts";
import { type Token, tokenText } from "../../src/imap/parser.ts";
import { expandSet, formatSet, inRanges, parseSequenceSet, type SeqRange } from "../../src/imap/sequence.ts";
import { ImapStoreError } from "../imap-client.ts";
import { bad, type Command, no, ok, type Result, type SessionContext } from "./context.ts";
import { MailboxSnapshot, SelectedMailbox } from "./selected.ts";

export const DELIMITER = "/";
export const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

/** Client name → stored name (mUTF-7 decoded unless UTF8=ACCEPT; INBOX case-insensitive). */
/** UTF-8 names: after ENABLE UTF8=ACCEPT or IMAP4rev2 (RFC 9051 drops modified UTF-7). */
const utf8Names = (s: SessionContext) => s.enabled.has("UTF8=ACCEPT") || s.enabled.has("IMAP4rev2");

export function inName(s: SessionContext, raw: string): string {
  const name = utf8Names(s) ? raw : decodeMutf7(raw);
  return name.toUpperCase() === "INBOX" ? "INBOX" : name.replace(/\/+$/, "");
}

export function outName(s: SessionContext, name: string): string {
  return astring(utf8Names(s) ? name : encodeMutf7(name));
}

/** Maps store refusals to IMAP response codes. */
export function storeFailure(err: unknown, what: string): Result {
  if (err instanceof ImapStoreError) {
    if (err.code === "nonexistent") return no(`[NONEXISTENT] ${what}: no such mailbox`);
    if (err.code === "exists") return no(`[ALREADYEXISTS] ${what}: mailbox exists`);
    if (err.code === "invalid") return no(`[CANNOT] ${what} refused`);
    if (err.code === "overquota") return no(`[OVERQUOTA] ${what}: storage quota exceeded`);
    return no(`[UNAVAILABLE] ${what} failed, try again later`);
  }
  throw err;
}

function patternRegex(ref: string, pattern: string): RegExp {
  const full = ref + pattern;
  let re = "";
  for (const ch of full) {
    if (ch === "*") re += ".*";
    else if (ch === "%") re += "[^/]*";
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, /^inbox/i.test(full) ? "i" : "");
}

const STATUS_ITEMS = [
  "MESSAGES",
  "RECENT",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "HIGHESTMODSEQ",
  "SIZE",
  "DELETED",
];

function statusLine(s: SessionContext, st: MailboxStatus, items: string[]): string {
  const values: Record<string, number> = {
    MESSAGES: st.messages,
    RECENT: 0,
    UIDNEXT: st.uidNext,
    UIDVALIDITY: st.uidValidity,
    UNSEEN: st.unseen,
    HIGHESTMODSEQ: st.highestModseq,
    SIZE: st.size,
    DELETED: st.deleted,
  };
  return `* STATUS ${outName(s, st.name)} (${items.map((i) => `${i} ${values[i]}`).join(" ")})`;
}

function parseStatusItems(t: Token | undefined): string[] | null {
  if (t?.kind !== "list" || t.items.length === 0) return null;
  const items = t.items.map((i) => (tokenText(i) ?? "").toUpperCase());
  return items.every((i) => STATUS_ITEMS.includes(i)) ? items : null;
}

export async function list(s: SessionContext, cmd: Command): Promise<Result> {
  const lsub = cmd.name === "LSUB";
  const args = [...cmd.args];
  const selection = new Set<string>();
  if (!lsub && args[0]?.kind === "list") {
    for (const t of (args.shift() as { items: Token[] }).items)
      selection.add((tokenText(t) ?? "").toUpperCase());
  }
  const ref = tokenText(args.shift());
  const patTok = args.shift();
  if (ref === null || !patTok) return bad("LIST needs a reference and a pattern");
  const patterns =
    patTok.kind === "list" ? patTok.items.map((t) => tokenText(t) ?? "") : [tokenText(patTok) ?? ""];
  const returns = new Set<string>();
  let statusItems: string[] | null = null;
  if (args.length > 0) {
    if ((tokenText(args.shift()) ?? "").toUpperCase() !== "RETURN" || args[0]?.kind !== "list") {
      return bad("Bad LIST arguments");
    }
    const opts = (args.shift() as { items: Token[] }).items;
    for (let i = 0; i < opts.length; i++) {
      const o = (tokenText(opts[i]) ?? "").toUpperCase();
      returns.add(o);
      if (o === "STATUS") {
        statusItems = parseStatusItems(opts[i + 1]);
        if (!statusItems) return bad("Bad STATUS return option");
        i++;
      }
    }
  }
  // RFC 5258: known selection and return options only; RECURSIVEMATCH needs another selection option.
  const SELECTION = ["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"];
  if ([...selection].some((o) => !SELECTION.includes(o))) return bad("Unknown LIST selection option");
  if (selection.has("RECURSIVEMATCH") && !selection.has("SUBSCRIBED") && !selection.has("SPECIAL-USE"))
    return bad("RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE");
  const RETURNS = ["SUBSCRIBED", "CHILDREN", "STATUS", "SPECIAL-USE"];
  if ([...returns].some((o) => !RETURNS.includes(o))) return bad("Unknown LIST return option");
  if (patterns.length === 1 && patterns[0] === "" && !lsub) {
    s.line(`* LIST (\\Noselect) "${DELIMITER}" ""`);
    return ok("LIST completed");
  }
  let boxes: MailboxInfo[];
  try {
    boxes = await s.store.mailboxes(s.user);
  } catch (err) {
    return storeFailure(err, "LIST");
  }
  const names = new Set(boxes.map((b) => b.name));
  const regexes = patterns.map((p) => patternRegex(inName(s, ref), utf8Names(s) ? p : decodeMutf7(p)));
  const subscribedOnly = lsub || selection.has("SUBSCRIBED");
  const selected = (b: MailboxInfo) =>
    (!subscribedOnly || b.subscribed) && (!selection.has("SPECIAL-USE") || b.specialUse !== null);
  const shown: MailboxInfo[] = [];
  for (const b of boxes) {
    if (!regexes.some((r) => r.test(b.name))) continue;
    if (!selected(b)) {
      // RECURSIVEMATCH: a mailbox that is not selected itself is listed when a descendant is.
      if (
        selection.has("RECURSIVEMATCH") &&
        boxes.some((c) => c.name.startsWith(`${b.name}${DELIMITER}`) && selected(c))
      ) {
        const what = selection.has("SUBSCRIBED") ? "SUBSCRIBED" : "SPECIAL-USE";
        s.line(`* LIST () "${DELIMITER}" ${outName(s, b.name)} ("CHILDINFO" ("${what}"))`);
      }
      continue;
    }
    const attrs: string[] = [];
    const hasChildren = [...names].some((n) => n.startsWith(`${b.name}${DELIMITER}`));
    if (!lsub) attrs.push(hasChildren ? "\\HasChildren" : "\\HasNoChildren");
    if (b.specialUse && !lsub) attrs.push(b.specialUse);
    if (b.subscribed && (selection.has("SUBSCRIBED") || returns.has("SUBSCRIBED")))
      attrs.push("\\Subscribed");
    // With RECURSIVEMATCH, a selected mailbox whose descendants also match says so (CHILDINFO).
    const childInfo =
      selection.has("RECURSIVEMATCH") &&
      boxes.some((c) => c.name.startsWith(`${b.name}${DELIMITER}`) && selected(c))
        ? ` ("CHILDINFO" ("${selection.has("SUBSCRIBED") ? "SUBSCRIBED" : "SPECIAL-USE"}"))`
        : "";
    s.line(
      `* ${lsub ? "LSUB" : "LIST"} (${attrs.join(" ")}) "${DELIMITER}" ${outName(s, b.name)}${childInfo}`,
    );
    shown.push(b);
  }
  if (statusItems && shown.length > 0) {
    try {
      const st = await s.store.status(
        s.user,
        shown.map((b) => b.name),
      );
      for (const x of st) s.line(statusLine(s, x, statusItems));
    } catch (err) {
      return storeFailure(err, "LIST");
    }
  }
  return ok(`${lsub ? "LSUB" : "LIST"} completed`);
}

export async function status(s: SessionContext, cmd: Command): Promise<Result> {
  const raw = tokenText(cmd.args[0]);
  const items = parseStatusItems(cmd.args[1]);
  if (raw === null || !items) return bad("STATUS needs a mailbox and items");
  if (items.includes("HIGHESTMODSEQ")) s.condstore();
  try {
    const st = await s.store.status(s.user, [inName(s, raw)]);
    const first = st[0];
    if (!first) return no("[NONEXISTENT] No such mailbox");
    s.line(statusLine(s, first, items));
    return ok("STATUS completed");
  } catch (err) {
    return storeFailure(err, "STATUS");
  }
}

export async function simple(s: SessionContext, cmd: Command): Promise<Result> {
  const a = tokenText(cmd.args[0]);
  if (a === null) return bad(`${cmd.name} needs a mailbox name`);
  const name = inName(s, a);
  try {
    switch (cmd.name) {
      case "CREATE":
        if (name === "INBOX") return no("[ALREADYEXISTS] INBOX exists");
        await s.store.create(s.user, name);
        return ok("CREATE completed");
      case "DELETE":
        if (name === "INBOX") return no("[CANNOT] INBOX cannot be deleted");
        if (s.selected?.name === name) s.selected = null;
        await s.store.delete(s.user, name);
        return ok("DELETE completed");
      case "RENAME": {
        const b = tokenText(cmd.args[1]);
        if (b === null) return bad("RENAME needs two names");
        await s.store.rename(s.user, name, inName(s, b));
        return ok("RENAME completed");
      }
      case "SUBSCRIBE":
      case "UNSUBSCRIBE":
        await s.store.subscribe(s.user, name, cmd.name === "SUBSCRIBE");
        return ok(`${cmd.name} completed`);
    }
  } catch (err) {
    return storeFailure(err, cmd.name);
  }
  return bad("Unknown command");
}

export async function select(s: SessionContext, cmd: Command): Promise<Result> {
  const a = tokenText(cmd.args[0]);
  if (a === null) return bad(`${cmd.name} needs a mailbox name`);
  const params = cmd.args[1];
  let qresync: { uidValidity: number; modseq: number; known: SeqRange[] | null } | null = null;
  if (params?.kind === "list") {
    for (let i = 0; i < params.items.length; i++) {
      const p = params.items[i] as Token;
      const v = (tokenText(p) ?? "").toUpperCase();
      if (v === "CONDSTORE") s.condstore();
      else if (v === "QRESYNC") {
        // RFC 7162 §3.2.5: QRESYNC (uidvalidity modseq [known-uids [seq-match-data]]).
        if (!s.enabled.has("QRESYNC")) return bad("QRESYNC is not enabled");
        const q = params.items[++i];
        if (q?.kind !== "list") return bad("Bad QRESYNC parameter");
        const uidValidity = Number(tokenText(q.items[0]));
        const modseq = Number(tokenText(q.items[1]));
        const knownText = q.items[2] && q.items[2].kind !== "list" ? tokenText(q.items[2]) : null;
        const known = knownText === null ? null : parseSequenceSet(knownText, 0xffffffff);
        if (!(uidValidity > 0) || !(modseq > 0) || (knownText !== null && !known))
          return bad("Bad QRESYNC parameter");
        qresync = { uidValidity, modseq, known };
      } else return bad(`Unsupported ${cmd.name} parameter ${v}`);
    }
  }
  const readOnly = cmd.name === "EXAMINE";
  // RFC 7162 §3.2.11 / RFC 9051: the previous mailbox's end is announced before the new one's data.
  if (s.selected) s.line("* OK [CLOSED] Previous mailbox closed");
  s.selected = null;
  let sel: SelectedMailbox;
  try {
    // A mailbox unchanged since this relay last loaded it is not sent again (see SelectCache).
    const key = `${s.user}\u0000${inName(s, a)}`;
    const snap = s.snapshots.get(key);
    const known = snap
      ? {
          id: snap.response.id,
          uidValidity: snap.response.uidValidity,
          highestModseq: snap.response.highestModseq,
        }
      : undefined;
    const res = await s.store.select(s.user, inName(s, a), known);
    if (res.unchanged && snap) sel = new SelectedMailbox(snap, readOnly, res.uidNext);
    else {
      const fresh = new MailboxSnapshot(res);
      s.snapshots.set(key, fresh);
      sel = new SelectedMailbox(fresh, readOnly);
    }
  } catch (err) {
    return storeFailure(err, cmd.name);
  }
  const flags = [...SYSTEM_FLAGS, ...sel.keywords];
  s.line(`* FLAGS (${flags.join(" ")})`);
  s.line(
    readOnly
      ? "* OK [PERMANENTFLAGS ()] Read-only mailbox"
      : `* OK [PERMANENTFLAGS (${[...flags, "\\*"].join(" ")})] Flags permitted`,
  );
  s.line(`* ${sel.exists} EXISTS`);
  // IMAP4rev2 dropped RECENT and wants the mailbox's canonical name in a LIST (RFC 9051 §6.3.2).
  if (!s.enabled.has("IMAP4rev2")) s.line("* 0 RECENT");
  else s.line(`* LIST () "${DELIMITER}" ${outName(s, sel.name)}`);
  const firstUnseen = sel.firstUnseen();
  if (firstUnseen > 0) s.line(`* OK [UNSEEN ${firstUnseen}] First unseen`);
  s.line(`* OK [UIDVALIDITY ${sel.uidValidity}] UIDs valid`);
  s.line(`* OK [UIDNEXT ${sel.uidNext}] Predicted next UID`);
  s.line(`* OK [HIGHESTMODSEQ ${sel.highestModseq}] Highest`);
  if (qresync && qresync.uidValidity === sel.uidValidity && qresync.modseq < sel.highestModseq) {
    // What changed since the client's last sync: expunged UIDs it knew, then changed flags.
    let changes: ChangesResponse;
    try {
      changes = await s.store.changes(s.user, sel.id, qresync.modseq, true);
    } catch (err) {
      return storeFailure(err, cmd.name);
    }
    const known = qresync.known;
    const vanished = expandSet(changes.vanished ?? "").filter((u) => !known || inRanges(known, u));
    if (vanished.length > 0) s.line(`* VANISHED (EARLIER) ${formatSet(vanished)}`);
    for (const c of changes.changed) {
      const seq = sel.seqOf(c.uid);
      if (seq === 0 || c.modseq > sel.highestModseq) continue;
      s.line(`* ${seq} FETCH (UID ${c.uid} FLAGS (${c.flags.join(" ")}) MODSEQ (${c.modseq}))`);
    }
  }
  s.selected = sel;
  return ok(`[${readOnly ? "READ-ONLY" : "READ-WRITE"}] ${cmd.name} completed`);
}
