/**
 * Moving users over from Dovecot: hashes made by Debian's `doveadm pw` for each scheme are imported with
 * `mxedge user import dovecot-passwd`, then the users log in over IMAP and SMTP AUTH through the real
 * relay with their old passwords. The first good login re-hashes to PBKDF2. A bad line is reported with
 * its line number, writes nothing, and makes the exit status non-zero while the other lines import.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { python, type RunningMxedge, smtpSend, startMxedge } from "./harness.ts";
import { requireTools } from "./tools.ts";

const enabled = requireTools("doveadm", "python3");

const IMAP_LOGIN = `import imaplib, ssl, sys
ctx = ssl._create_unverified_context()
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)
try:
    m.login(sys.argv[2], sys.argv[3])
    print("ok")
    m.logout()
except imaplib.IMAP4.error:
    print("refused")`;

const SCHEMES = ["BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID"] as const;
const user = (s: string) => `${s.toLowerCase().replace(/[^a-z0-9]/g, "")}@imp.test`;
const password = (s: string) => `old ${s} password!`;

function hashes(): Record<string, string> {
  const db = (dir: string) =>
    execFileSync(
      "python3",
      [
        "-c",
        "import sqlite3,sys,json; print(json.dumps(dict(sqlite3.connect(sys.argv[1]).execute('select login, password_hash from users'))))",
        join(dir, "mxedge.db"),
      ],
      { encoding: "utf8" },
    );
  return JSON.parse(db(mx.dataDir)) as Record<string, string>;
}

let mx: RunningMxedge;

describe.runIf(enabled)("Dovecot passwd-file import", () => {
  beforeAll(async () => {
    mx = await startMxedge();
    expect((await mx.cli(["domain", "add", "imp.test"])).code).toBe(0);
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("imports every scheme, reports the bad lines, and the users log in over IMAP and SMTP AUTH", async () => {
    const lines = SCHEMES.map(
      (s) =>
        `${user(s)}:${execFileSync("doveadm", ["pw", "-s", s, "-p", password(s)], { encoding: "utf8" }).trim()}:1000:1000::/home/x::`,
    );
    lines.splice(2, 0, "broken-line-without-fields", `ghost@not-ours.test:${lines[0]?.split(":")[1]}`);
    lines.push(`${user("BLF-CRYPT")}:{PLAIN}plain-is-refused`);
    const file = join(mx.dataDir, "passwd");
    writeFileSync(file, `# exported from dovecot\n${lines.join("\n")}\n`);

    const r = await mx.cli(["user", "import", "dovecot-passwd", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        "line 2: imported blfcrypt@imp.test",
        "line 3: imported sha512crypt@imp.test",
        "line 6: imported sha256crypt@imp.test",
        "line 7: imported argon2id@imp.test",
        "4 imported, 3 refused",
        "",
      ].join("\n"),
    );
    expect(r.stderr).toBe(
      [
        "mxedge: line 4: expected user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]",
        "mxedge: line 5: domain not-ours.test does not exist; add it first",
        "mxedge: line 8: unsupported scheme {PLAIN} (supported: BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, ARGON2ID, CRYPT)",
        "",
      ].join("\n"),
    );
    // Nothing partial: the refused lines left no user behind, the imported ones kept their Dovecot hash.
    const before = hashes();
    expect(Object.keys(before).sort()).toEqual(SCHEMES.map(user).sort());
    expect(before[user("SHA512-CRYPT")]).toMatch(/^\$6\$/);
    expect(before[user("BLF-CRYPT")]).toMatch(/^\$2y\$/);

    // Half log in over IMAP first, half over SMTP first, so both paths meet an imported hash.
    for (const [i, s] of SCHEMES.entries()) {
      const imap = () => python(IMAP_LOGIN, [String(mx.ports.imaps), user(s), password(s)]);
      const smtp = () =>
        smtpSend("ssl", mx.ports.submissions, user(s), user(s), `import ${s}`, {
          user: user(s),
          password: password(s),
        });
      if (i % 2 === 0) {
        expect((await imap()).trim(), `${s} IMAP`).toBe("ok");
        expect(await smtp(), `${s} SMTP`).toMatchObject({ ok: true, code: 250 });
      } else {
        expect(await smtp(), `${s} SMTP`).toMatchObject({ ok: true, code: 250 });
        expect((await imap()).trim(), `${s} IMAP`).toBe("ok");
      }
    }
    expect(
      (await python(IMAP_LOGIN, [String(mx.ports.imaps), user("SHA256-CRYPT"), "not the password"])).trim(),
    ).toBe("refused");

    // Re-hashed on the first good login.
    const after = hashes();
    for (const s of SCHEMES) expect(after[user(s)], s).toMatch(/^\$pbkdf2-sha256\$i=100000\$/);
  });

  it("messages list, show and raw give the mail the imported users sent", async () => {
    const list = await mx.cli(["messages", "list", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const messages = JSON.parse(list.stdout) as Array<{ id: string; subject: string; mailFrom: string }>;
    expect(messages.map((m) => m.subject).sort()).toEqual(SCHEMES.map((s) => `import ${s}`).sort());
    const first = messages.find((m) => m.subject === "import ARGON2ID");
    expect(first?.mailFrom).toBe(user("ARGON2ID"));
    const human = await mx.cli(["messages", "list"]);
    expect(human.stdout.split("\n").filter(Boolean)).toHaveLength(4);
    expect(human.stdout).toMatch(
      new RegExp(
        `^${first?.id} +\\S+ +argon2id@imp\\.test +argon2id@imp\\.test +\\d+B +import ARGON2ID$`,
        "m",
      ),
    );
    const show = await mx.cli(["messages", "show", first?.id ?? ""]);
    expect(show.stdout).toMatch(/^subject {5}import ARGON2ID$/m);
    expect(show.stdout).toMatch(/^mail from {3}argon2id@imp\.test$/m);
    // The text view carries the verdicts --json has (SPF for the client's address, DKIM, DMARC, ARC).
    expect(show.stdout).toMatch(/^spf {9}\w+ \(.*client 127\.0\.0\.1/m);
    for (const check of ["dkim", "dmarc", "arc", "dnsbl", "rules"])
      expect(show.stdout).toMatch(new RegExp(`^${check} +\\S`, "m"));
    const raw = await mx.cli(["messages", "raw", first?.id ?? ""]);
    expect(raw.code).toBe(0);
    expect(raw.stdout).toMatch(/^Received: /);
    // Sent with SMTP AUTH: our Authentication-Results names the login (RFC 8601 smtp.auth).
    expect(raw.stdout).toMatch(
      /\r\nAuthentication-Results: [^;]+;\r\n auth=pass smtp\.auth=argon2id@imp\.test;/,
    );
    expect(raw.stdout).toMatch(/\r\nSubject: import ARGON2ID\r\n[\s\S]*\r\n\r\nHello from smtplib\.\r\n$/);
  });
});
