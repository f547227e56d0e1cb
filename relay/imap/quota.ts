/**
 * QUOTA (RFC 9208) with one resource, STORAGE, and one root per user (""), covering all mailboxes.
 * Limits are set by the operator (users.quota_bytes, or the config default), never by SETQUOTA.
 */
import { tokenText } from "../../src/imap/parser.ts";
import { bad, type Command, no, ok, type Result, type SessionContext } from "./context.ts";
import { inName, outName, storeFailure } from "./mailboxes.ts";

/** STORAGE is counted in units of 1024 octets. */
const kib = (bytes: number) => Math.ceil(bytes / 1024);

async function quotaLine(s: SessionContext): Promise<string | null> {
  const q = await s.store.quota(s.user);
  if (q.limitBytes === null) return null;
  return `* QUOTA "" (STORAGE ${kib(q.usedBytes)} ${kib(q.limitBytes)})`;
}

export async function quota(s: SessionContext, cmd: Command): Promise<Result> {
  try {
    switch (cmd.name) {
      case "GETQUOTAROOT": {
        const raw = tokenText(cmd.args[0]);
        if (raw === null || cmd.args.length !== 1) return bad("GETQUOTAROOT needs a mailbox");
        const name = inName(s, raw);
        const st = await s.store.status(s.user, [name]);
        if (st.length === 0) return no("[NONEXISTENT] No such mailbox");
        const line = await quotaLine(s);
        // Without a limit the mailbox has no quota root (RFC 9208 §4.4.1 allows an empty list).
        s.line(`* QUOTAROOT ${outName(s, name)}${line ? ' ""' : ""}`);
        if (line) s.line(line);
        return ok("GETQUOTAROOT completed");
      }
      case "GETQUOTA": {
        const root = tokenText(cmd.args[0]);
        if (root === null || cmd.args.length !== 1) return bad("GETQUOTA needs a quota root");
        const line = root === "" ? await quotaLine(s) : null;
        if (!line) return no("[NONEXISTENT] No such quota root");
        s.line(line);
        return ok("GETQUOTA completed");
      }
      default:
        return no("[NOPERM] Quotas are set by the server's operator");
    }
  } catch (err) {
    return storeFailure(err, cmd.name);
  }
}
