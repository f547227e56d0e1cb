/**
 * mbsync (isync, Debian) against a real `mxedge serve` over IMAPS: a first sync into a local Maildir,
 * flag changes on both sides, and a re-sync with no duplicates and no lost flags.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { python, type RunningMxedge, startMxedge } from "./harness.ts";
import { requireTools } from "./tools.ts";

const run = promisify(execFile);
const USER = "sync@example.test";
const PASSWORD = "s3cret-passw0rd";
const COUNT = 1000;

const enabled = requireTools("mbsync", "python3");

describe.runIf(enabled)("IMAP with mbsync", () => {
  let mx: RunningMxedge;
  let config: string;
  let maildir: string;

  const mbsync = () => run("mbsync", ["-c", config, "-a"], { timeout: 60_000 });
  const files = () =>
    ["cur", "new"].flatMap((d) => readdirSync(join(maildir, "INBOX", d)).map((f) => join(d, f)));
  const remoteFlags = async () =>
    JSON.parse(
      await python(
        `
import imaplib, json, ssl, sys
ctx = ssl._create_unverified_context()
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)
m.login(sys.argv[2], sys.argv[3])
m.select("INBOX", readonly=True)
typ, data = m.fetch("1:*", "(UID FLAGS)")
print(json.dumps([d.decode() for d in data]))
`,
        [String(mx.ports.imaps), USER, PASSWORD],
      ),
    ) as string[];

  beforeAll(async () => {
    mx = await startMxedge();
    expect((await mx.cli(["domain", "add", "example.test"])).code).toBe(0);
    expect((await mx.cli(["user", "add", USER, "--password-stdin"], `${PASSWORD}\n`)).code).toBe(0);
    // One SMTP session delivers every message.
    await python(
      `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    s.sendmail("a@sender.test", [sys.argv[3]], f"From: a@sender.test\\r\\nSubject: sync {i}\\r\\nMessage-ID: <sync{i}@e2e.test>\\r\\n\\r\\nmessage {i}\\r\\n")
s.quit()
`,
      [String(mx.ports.smtp), String(COUNT), USER],
    );
    maildir = join(mx.dataDir, "maildir");
    mkdirSync(maildir);
    config = join(mx.dataDir, "mbsyncrc");
    writeFileSync(
      config,
      [
        "IMAPAccount mx",
        "Host 127.0.0.1",
        `Port ${mx.ports.imaps}`,
        `User ${USER}`,
        `Pass ${PASSWORD}`,
        "SSLType IMAPS",
        `CertificateFile ${join(mx.dataDir, "tls/selfsigned.crt")}`,
        "",
        "IMAPStore remote",
        "Account mx",
        "",
        "MaildirStore local",
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        "",
        "Channel inbox",
        "Far :remote:",
        "Near :local:",
        "Patterns INBOX",
        "Create Both",
        "Sync All",
        "SyncState *",
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("syncs, exchanges flag changes both ways, and re-syncs without duplicates", async () => {
    await mbsync();
    expect(files()).toHaveLength(COUNT);

    // Local: mark every 10th message seen (Maildir info ":2,S"). Remote: flag every 20th from UID 5.
    const local = files().sort();
    for (let i = 0; i < local.length; i += 10) {
      const f = local[i] as string;
      renameSync(
        join(maildir, "INBOX", f),
        join(maildir, "INBOX", "cur", `${f.split("/")[1]?.split(":")[0]}:2,S`),
      );
    }
    await python(
      `
import imaplib, ssl, sys
ctx = ssl._create_unverified_context()
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)
m.login(sys.argv[2], sys.argv[3])
m.select("INBOX")
m.uid("STORE", ",".join(str(u) for u in range(5, int(sys.argv[4]) + 1, 20)), "+FLAGS", "(\\\\Flagged)")
m.logout()
`,
      [String(mx.ports.imaps), USER, PASSWORD, String(COUNT)],
    );
    await mbsync();
    await mbsync();
    expect(files()).toHaveLength(COUNT);
    expect(new Set(files().map((f) => f.split(":")[0])).size).toBe(COUNT);
    const flagged = files().filter((f) => /:2,[A-Z]*F/.test(f));
    expect(flagged).toHaveLength(COUNT / 20);
    expect(files().filter((f) => /:2,[A-Z]*S/.test(f))).toHaveLength(COUNT / 10);
    const remote = await remoteFlags();
    expect(remote).toHaveLength(COUNT);
    expect(remote.filter((l) => l.includes("\\Seen"))).toHaveLength(COUNT / 10);
    const remoteFlagged = remote.filter((l) => l.includes("\\Flagged"));
    expect(remoteFlagged).toHaveLength(COUNT / 20);
    expect(remoteFlagged[0]).toMatch(/UID 5 /);
  });
});
