/** APPEND with flags and date (UIDPLUS: APPENDUID). */
import { toBase64 } from "../../src/encoding.ts";
import { parseDateTime } from "../../src/imap/dates.ts";
import { tokenText } from "../../src/imap/parser.ts";
import { parseFlags } from "./changes.ts";
import { bad, type Command, no, ok, type Result, type SessionContext } from "./context.ts";
import { inName, storeFailure } from "./mailboxes.ts";

export async function append(s: SessionContext, cmd: Command): Promise<Result> {
  const args = [...cmd.args];
  const name = tokenText(args.shift());
  if (name === null) return bad("APPEND needs a mailbox");
  let flags: string[] = [];
  if (args[0]?.kind === "list") {
    const f = parseFlags(args[0].items);
    if (!f) return bad("Bad flags");
    flags = f;
    args.shift();
  }
  let date: number | null = null;
  if (args.length > 1 && args[0]?.kind === "string") {
    date = parseDateTime(args[0].value);
    if (date === null) return bad("Bad date-time");
    args.shift();
  }
  const body = args.shift();
  if (body?.kind !== "literal" || args.length > 0) return bad("APPEND needs one message literal");
  if (body.value.length === 0) return no("Empty message");
  try {
    const res = await s.store.append(s.user, inName(s, name), flags, date, toBase64(body.value));
    if (s.selected) await s.sync(true);
    return ok(`[APPENDUID ${res.uidValidity} ${res.uid}] APPEND completed`);
  } catch (err) {
    const r = storeFailure(err, "APPEND");
    return r.text.startsWith("[NONEXISTENT]") ? no("[TRYCREATE] APPEND: no such mailbox") : r;
  }
}
