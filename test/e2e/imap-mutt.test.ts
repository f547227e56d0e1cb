/**
 * mutt (Debian) against a real `mxedge serve` over IMAPS, driven like a user under a pseudo-terminal:
 * open INBOX, read a message, flag one, mark one unread and one read, save one to Archive, delete one,
 * sync, quit. The server's state is then read back with imapflow, and neither mutt's screen, nor its
 * IMAP trace, nor the server's log may show an error.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { type Pty, type PtyReply, startPty } from "./pty.ts";
import { swaks } from "./swaks.ts";
import { requireTools } from "./tools.ts";

const USER = "mutt@example.test";
const PASSWORD = "s3cret-passw0rd";
/** Delivered in this order, so with `sort=mailbox-order` they are mutt's messages 1..4. */
const MESSAGES = ["alpha", "bravo", "charlie", "delta"] as const;
const subject = (name: string) => `Mutt check ${name}`;

/** What mutt's message line says when something failed (server text after NO/BAD is shown as is). */
const ERROR = /error|fail|\bNO\b|\bBAD\b|can't|cannot|unable|denied|invalid/i;

const enabled = requireTools("mutt", "swaks", "python3");

async function serverState(
  port: number,
): Promise<Record<string, Array<{ subject: string; flags: string[] }>>> {
  const c = new ImapFlow({
    host: "127.0.0.1",
    port,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user: USER, pass: PASSWORD },
    logger: false,
  });
  await c.connect();
  const state: Record<string, Array<{ subject: string; flags: string[] }>> = {};
  try {
    for (const box of ["INBOX", "Archive"]) {
      const lock = await c.getMailboxLock(box, { readOnly: true }).catch(() => null);
      if (!lock) continue;
      try {
        const rows = [];
        for await (const m of c.fetch("1:*", { envelope: true, flags: true })) {
          rows.push({ subject: m.envelope?.subject ?? "", flags: [...(m.flags ?? [])].sort() });
        }
        state[box] = rows;
      } finally {
        lock.release();
      }
    }
  } finally {
    await c.logout();
  }
  return state;
}

describe.runIf(enabled)("IMAP with mutt", () => {
  let mx: RunningMxedge;
  let home: string;

  beforeAll(async () => {
    mx = await startMxedge();
    expect((await mx.cli(["domain", "add", "example.test"])).code).toBe(0);
    expect((await mx.cli(["user", "add", USER, "--password-stdin"], `${PASSWORD}\n`)).code).toBe(0);
    for (const name of MESSAGES) {
      const sent = await swaks({
        port: mx.ports.smtp,
        from: "sender@sender.test",
        to: USER,
        message: [
          "From: Sender <sender@sender.test>",
          `To: ${USER}`,
          `Subject: ${subject(name)}`,
          `Message-ID: <${name}@mutt.e2e.test>`,
          "Date: Mon, 02 Nov 2026 10:00:00 +0000",
          "",
          `The body of message ${name}.`,
          "",
        ].join("\r\n"),
      });
      expect(sent.code, sent.transcript).toBe(250);
    }
    home = join(mx.dataDir, "mutt-home");
    mkdirSync(home);
    writeFileSync(
      join(home, "muttrc"),
      [
        `set folder="imaps://127.0.0.1:${mx.ports.imaps}/"`,
        'set spoolfile="+INBOX"',
        `set imap_user="${USER}"`,
        `set imap_pass="${PASSWORD}"`,
        // Trust the server's self-signed certificate (its names include 127.0.0.1); without this mutt
        // stops at "(r)eject, accept (o)nce, (a)ccept always".
        `set certificate_file="${join(mx.dataDir, "tls/selfsigned.crt")}"`,
        "set ssl_force_tls=yes",
        // Nothing may ask a question or wait for a key: every prompt below would swallow keystrokes.
        "unset record",
        'set postponed="+Drafts"',
        "unset header_cache",
        'set message_cachedir=""',
        "set confirmappend=no",
        "set confirmcreate=no",
        "set delete=yes",
        "set quit=yes",
        "set move=no",
        "set wait_key=no",
        "set sleep_time=0",
        "set beep=no",
        "set resolve=no",
        "set mark_old=no",
        "set sort=mailbox-order",
        "set mail_check=5",
        "set timeout=30",
        "set imap_check_subscribed=no",
        'set index_format="%4C %Z %s"',
        // The pager shows only these headers (the trace headers mxedge adds would fill the screen).
        "ignore *",
        "unignore from: to: subject: date:",
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("reads, flags, marks, saves to Archive, deletes and syncs, like a user", async () => {
    const mutt: Pty = startPty(["mutt", "-n", "-d", "2", "-F", join(home, "muttrc")], {
      ...process.env,
      HOME: home,
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
    });
    /** Every row mutt showed, for the closing check; each step also checks its own rows at once. */
    const shown: string[] = [];
    const noErrors = (r: PtyReply) => {
      shown.push(...r.rows);
      expect(r.rows.filter((row) => ERROR.test(row))).toEqual([]);
    };
    let step = 0;
    /** Sends keys, then an `:echo` mutt prints only once it has done everything typed before it. */
    const act = async (keys: string) => {
      step += 1;
      // Typed, the marker reads STEP"-"n; echoed, STEP-n: only mutt's own output matches.
      noErrors(await mutt.keys(`${keys}:echo STEP"-"${step}\r`, `^STEP-${step}\\s*$`));
    };
    try {
      // 1. INBOX opens with the four messages; the first one's pager shows its body. Reading marks it
      // read, which the sync ($) writes to the server.
      noErrors(await mutt.keys("", MESSAGES.map((n) => `(?=[\\s\\S]*${subject(n)})`).join("")));
      noErrors(await mutt.keys("1\r\r", "^The body of message alpha\\.$"));
      await act("q$");
      let state = await serverState(mx.ports.imaps);
      expect(state.INBOX?.map((m) => [m.subject, m.flags])).toEqual([
        [subject("alpha"), ["\\Seen"]],
        [subject("bravo"), []],
        [subject("charlie"), []],
        [subject("delta"), []],
      ]);

      // 2. Flag bravo, mark alpha unread again and delta read without opening it; sync.
      await act("2\rF1\rN4\rN$");
      state = await serverState(mx.ports.imaps);
      expect(state.INBOX?.map((m) => [m.subject, m.flags])).toEqual([
        [subject("alpha"), []],
        [subject("bravo"), ["\\Flagged"]],
        [subject("charlie"), []],
        [subject("delta"), ["\\Seen"]],
      ]);

      // 3. Save charlie to =Archive (created on the fly), which deletes it from INBOX; sync.
      await act("3\rs\x15=Archive\r$");
      state = await serverState(mx.ports.imaps);
      expect(state.Archive?.map((m) => m.subject)).toEqual([subject("charlie")]);
      expect(state.INBOX?.map((m) => m.subject)).toEqual([
        subject("alpha"),
        subject("bravo"),
        subject("delta"),
      ]);

      // 4. Delete delta (now message 3) and sync; 5. quit.
      await act("3\rd$");
      await mutt.keys("q");
      const end = await mutt.exit();
      expect(end.ok, end.screen).toBe(true);
      expect(end.code).toBe(0);
      noErrors(end);

      state = await serverState(mx.ports.imaps);
      expect(state).toEqual({
        INBOX: [
          { subject: subject("alpha"), flags: [] },
          { subject: subject("bravo"), flags: ["\\Flagged"] },
        ],
        Archive: [{ subject: subject("charlie"), flags: [] }],
      });

      // mutt really drew its screens (the error checks above saw them); it does not show every failed
      // command, so its IMAP trace must hold no tagged NO or BAD it was not meant to get; and the
      // server logged no failure.
      expect(shown).toContain("Save to mailbox: =Archive");
      const trace = readFileSync(join(home, ".muttdebug0"), "utf8");
      expect(trace).toMatch(/\ba\d+ UID STORE 1 -FLAGS\.SILENT \(\\Seen\)/);
      expect(trace).toMatch(/\ba\d+ UID STORE 2 \+FLAGS\.SILENT \(\\Flagged\)/);
      // The only refusals: the two that tell mutt to create Archive before its first copy.
      const refused = trace.split("\n").filter((l) => /< a\d+ (NO|BAD)\b/.test(l));
      expect(refused.map((l) => /< a\d+ (NO \[\w+\] \w+)/.exec(l)?.[1] ?? l)).toEqual([
        "NO [NONEXISTENT] STATUS",
        "NO [TRYCREATE] COPY",
      ]);
      expect(mx.output()).not.toMatch(/imap\.command-failed|imap\.session-error/);
    } finally {
      mutt.kill();
    }
  });
});
