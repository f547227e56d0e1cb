/**
 * mutt (Debian) against a real `mxedge serve` over IMAPS, driven like a user under a pseudo-terminal
 * (test/e2e/pty.ts): read, flag, mark read and unread, save to another mailbox, delete, sync, quit; and,
 * with a header cache, CONDSTORE/QRESYNC and IDLE on, reopen after changes made elsewhere and see new
 * mail and flags arrive while open. The server's state is read back with imapflow, and neither mutt's
 * screen, nor its IMAP trace, nor the server's log may show an error.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { type Pty, type PtyReply, startPty } from "./pty.ts";
import { swaks } from "./swaks.ts";
import { requireTools } from "./tools.ts";

const PASSWORD = "s3cret-passw0rd";
const subject = (name: string) => `Mutt check ${name}`;

/** What mutt's message line says when something failed (server text after NO/BAD is shown as is). */
const ERROR = /error|fail|\bNO\b|\bBAD\b|can't|cannot|unable|denied|invalid/i;

const enabled = requireTools("mutt", "swaks", "python3");

type State = Record<string, Array<{ subject: string; flags: string[] }>>;

function imapClient(port: number, user: string): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass: PASSWORD },
    logger: false,
  });
}

/** Every message of INBOX and Archive (when it exists), in mailbox order, as a second client sees them. */
async function serverState(port: number, user: string): Promise<State> {
  const c = imapClient(port, user);
  await c.connect();
  const state: State = {};
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

interface Mutt {
  /** Keys, then a wait for the screen (a Python regex); the rows painted meanwhile must show no error. */
  keys(keys: string, wait: string, timeoutSeconds?: number): Promise<string>;
  /** Keys, then an `:echo` that mutt prints only once it has done everything typed before it. */
  act(keys: string): Promise<void>;
  /** `q`, and mutt must exit 0 with no error on its last screens. */
  quit(): Promise<void>;
  /** Every row mutt painted so far. */
  shown: string[];
  /** Its IMAP conversation (`-d 2`). */
  trace(): string;
  kill(): void;
}

function startMutt(home: string): Mutt {
  const pty: Pty = startPty(["mutt", "-n", "-d", "2", "-F", join(home, "muttrc")], {
    ...process.env,
    HOME: home,
    LANG: "C.UTF-8",
    LC_ALL: "C.UTF-8",
  });
  const shown: string[] = [];
  const noErrors = (r: PtyReply) => {
    shown.push(...r.rows);
    expect(r.rows.filter((row) => ERROR.test(row))).toEqual([]);
  };
  let step = 0;
  return {
    shown,
    async keys(keys, wait, timeoutSeconds) {
      const r = await pty.keys(keys, wait, timeoutSeconds);
      noErrors(r);
      return r.screen;
    },
    async act(keys) {
      step += 1;
      // Typed, the marker reads STEP"-"n; echoed, STEP-n: only mutt's own output matches.
      noErrors(await pty.keys(`${keys}:echo STEP"-"${step}\r`, `^STEP-${step}\\s*$`));
    },
    async quit() {
      await pty.keys("q");
      const end = await pty.exit();
      expect(end.ok, end.screen).toBe(true);
      expect(end.code).toBe(0);
      noErrors(end);
    },
    trace: () => readFileSync(join(home, ".muttdebug0"), "utf8"),
    kill: () => pty.kill(),
  };
}

/** The tagged NO/BAD answers in a mutt trace, as "NO [CODE] COMMAND". */
function refusals(trace: string): string[] {
  return trace
    .split("\n")
    .filter((l) => /< a\d+ (NO|BAD)\b/.test(l))
    .map((l) => /< a\d+ ((?:NO|BAD)(?: \[\w+\])? \w+)/.exec(l)?.[1] ?? l);
}

describe.runIf(enabled)("IMAP with mutt", () => {
  let mx: RunningMxedge;

  const deliver = async (user: string, name: string) => {
    const sent = await swaks({
      port: mx.ports.smtp,
      from: "sender@sender.test",
      to: user,
      message: [
        "From: Sender <sender@sender.test>",
        `To: ${user}`,
        `Subject: ${subject(name)}`,
        `Message-ID: <${name}@mutt.e2e.test>`,
        "Date: Mon, 02 Nov 2026 10:00:00 +0000",
        "",
        `The body of message ${name}.`,
        "",
      ].join("\r\n"),
    });
    expect(sent.code, sent.transcript).toBe(250);
  };

  /** A home directory with a muttrc for `user`; `extra` lines come last. */
  const muttHome = async (user: string, extra: string[]) => {
    expect((await mx.cli(["user", "add", user, "--password-stdin"], `${PASSWORD}\n`)).code).toBe(0);
    const home = join(mx.dataDir, `mutt-${user}`);
    mkdirSync(home);
    writeFileSync(
      join(home, "muttrc"),
      [
        `set folder="imaps://127.0.0.1:${mx.ports.imaps}/"`,
        'set spoolfile="+INBOX"',
        `set imap_user="${user}"`,
        `set imap_pass="${PASSWORD}"`,
        // Trust the server's self-signed certificate (its names include 127.0.0.1); without this mutt
        // stops at "(r)eject, accept (o)nce, (a)ccept always".
        `set certificate_file="${join(mx.dataDir, "tls/selfsigned.crt")}"`,
        "set ssl_force_tls=yes",
        // Nothing may ask a question or wait for a key: every prompt would swallow keystrokes.
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
        ...extra,
        "",
      ].join("\n"),
    );
    return home;
  };

  beforeAll(async () => {
    mx = await startMxedge();
    expect((await mx.cli(["domain", "add", "example.test"])).code).toBe(0);
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("reads, flags, marks, saves to Archive, deletes and syncs, like a user", async () => {
    const user = "mutt@example.test";
    const home = await muttHome(user, []);
    // Delivered in this order, so with `sort=mailbox-order` they are mutt's messages 1..4.
    for (const name of ["alpha", "bravo", "charlie", "delta"]) await deliver(user, name);
    const state = () => serverState(mx.ports.imaps, user);
    const mutt = startMutt(home);
    try {
      // 1. INBOX opens with the four messages; the first one's pager shows its body. Reading marks it
      // read, which the sync ($) writes to the server.
      await mutt.keys(
        "",
        ["alpha", "bravo", "charlie", "delta"].map((n) => `(?=[\\s\\S]*${subject(n)})`).join(""),
      );
      await mutt.keys("1\r\r", "^The body of message alpha\\.$");
      await mutt.act("q$");
      expect((await state()).INBOX?.map((m) => [m.subject, m.flags])).toEqual([
        [subject("alpha"), ["\\Seen"]],
        [subject("bravo"), []],
        [subject("charlie"), []],
        [subject("delta"), []],
      ]);

      // 2. Flag bravo, mark alpha unread again and delta read without opening it; sync.
      await mutt.act("2\rF1\rN4\rN$");
      expect((await state()).INBOX?.map((m) => [m.subject, m.flags])).toEqual([
        [subject("alpha"), []],
        [subject("bravo"), ["\\Flagged"]],
        [subject("charlie"), []],
        [subject("delta"), ["\\Seen"]],
      ]);

      // 3. Save charlie to =Archive (created on the fly), which deletes it from INBOX; sync.
      await mutt.act("3\rs\x15=Archive\r$");
      const saved = await state();
      expect(saved.Archive?.map((m) => m.subject)).toEqual([subject("charlie")]);
      expect(saved.INBOX?.map((m) => m.subject)).toEqual([
        subject("alpha"),
        subject("bravo"),
        subject("delta"),
      ]);

      // 4. Delete delta (now message 3) and sync; 5. quit.
      await mutt.act("3\rd$");
      await mutt.quit();
      expect(await state()).toEqual({
        INBOX: [
          { subject: subject("alpha"), flags: [] },
          { subject: subject("bravo"), flags: ["\\Flagged"] },
        ],
        Archive: [{ subject: subject("charlie"), flags: [] }],
      });

      // The error checks saw what mutt drew. But mutt does not show every failed command (a refused
      // flag STORE passes silently), so its IMAP trace must hold no tagged NO or BAD it was not meant to
      // get; and the server logged no failure.
      expect(mutt.shown).toContain("The body of message alpha.");
      const trace = mutt.trace();
      expect(trace).toMatch(/\ba\d+ UID STORE 1 -FLAGS\.SILENT \(\\Seen\)/);
      expect(trace).toMatch(/\ba\d+ UID STORE 2 \+FLAGS\.SILENT \(\\Flagged\)/);
      // The only refusals: the two that tell mutt to create Archive before its first copy.
      expect(refusals(trace)).toEqual(["NO [NONEXISTENT] STATUS", "NO [TRYCREATE] COPY"]);
      expect(mx.output()).not.toMatch(/imap\.command-failed|imap\.session-error/);
    } finally {
      mutt.kill();
    }
  });

  it("reopens from its header cache with QRESYNC, and sees new mail and flags arrive while idling", async () => {
    const user = "cache@example.test";
    const home = await muttHome(user, [
      `set header_cache="${join(mx.dataDir, "mutt-hcache")}"`,
      "set imap_condstore=yes",
      "set imap_qresync=yes",
      "set imap_idle=yes",
      // Check for news every second, so what the server pushes shows up at once.
      "set timeout=1",
      "set mail_check=1",
    ]);
    for (const name of ["one", "two", "three"]) await deliver(user, name);
    /** An index row: "   2 N ! Mutt check two" (%4C %Z %s; `!` is flagged). */
    const row = (name: string, flagged = false) => `^ *\\d+ ..${flagged ? "!" : " "} ${subject(name)}$`;
    const other = imapClient(mx.ports.imaps, user);

    // First run fills the header cache.
    let mutt = startMutt(home);
    try {
      await mutt.keys("", `${row("one")}[\\s\\S]*${row("two")}[\\s\\S]*${row("three")}`);
      await mutt.quit();
    } finally {
      mutt.kill();
    }

    // While mutt is away, another client flags two and expunges one, and three more messages arrive.
    await other.connect();
    try {
      const lock = await other.getMailboxLock("INBOX");
      try {
        await other.messageFlagsAdd("2", ["\\Flagged"]);
        await other.messageDelete("1");
      } finally {
        lock.release();
      }
      await deliver(user, "four");

      mutt = startMutt(home);
      try {
        const screen = await mutt.keys(
          "",
          `${row("two", true)}[\\s\\S]*${row("three")}[\\s\\S]*${row("four")}`,
        );
        expect(screen).not.toMatch(subject("one"));
        const resync = mutt.trace();
        expect(resync).toMatch(/UID FETCH \S+ \(FLAGS\) \(CHANGEDSINCE \d+ VANISHED\)/);
        expect(resync).toMatch(/< \* VANISHED \(EARLIER\) 1\r?$/m);

        // New mail and a flag set elsewhere reach the open, idling mutt.
        await deliver(user, "five");
        await mutt.keys("", row("five"));
        const lock2 = await other.getMailboxLock("INBOX");
        try {
          await other.messageFlagsAdd("3", ["\\Flagged"], { uid: true });
        } finally {
          lock2.release();
        }
        await mutt.keys("", row("three", true));
        await mutt.quit();
        expect(refusals(mutt.trace())).toEqual([]);
      } finally {
        mutt.kill();
      }
    } finally {
      await other.logout();
    }
    expect((await serverState(mx.ports.imaps, user)).INBOX).toEqual([
      { subject: subject("two"), flags: ["\\Flagged"] },
      { subject: subject("three"), flags: ["\\Flagged"] },
      { subject: subject("four"), flags: [] },
      { subject: subject("five"), flags: [] },
    ]);
    expect(mx.output()).not.toMatch(/imap\.command-failed|imap\.session-error/);
  });
});
