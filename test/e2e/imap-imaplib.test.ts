/**
 * IMAP against a real `mxedge serve`, driven by Python's imaplib: mail arrives by SMTP, is read back
 * over STARTTLS and IMAPS, byte-exact against the stored raw message, then flagged, searched, copied,
 * moved, appended and expunged.
 */
import { execFile } from "node:child_process";
import { connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, type RunningMxedge, smtpSend, startMxedge } from "./harness.ts";

const run = promisify(execFile);
const USER = "someone@example.test";
const PASSWORD = "s3cret-passw0rd";

interface Results {
  plainCaps: string[];
  plainLogin: string;
  tlsCaps: string[];
  list: string[];
  selectExists: number;
  bodies: Record<string, string>;
  flagsAfterPeek: string[];
  flagsAfterBody: string[];
  headerFields: string;
  envelopeLine: string;
  searchSubject: string;
  searchUnseen: string;
  searchNotSeen: string;
  searchBody: string;
  searchOr: string;
  searchLarger: string;
  searchSince: string;
  storeAdd: string[];
  storeRemove: string[];
  searchFlagged: string;
  searchKeyword: string;
  append: string;
  afterAppendExists: number;
  appendedFetch: string[];
  appendedParts: string[];
  copy: string;
  moveMissing: string;
  move: string;
  moveUntagged: string[];
  expunge: string[];
  status: string;
  statusArchive: string;
  finalExists: number;
  imapsCaps: string[];
  imapsExamine: number;
  readOnlyStore: string;
  badLogin: string;
}

/** A raw IMAP conversation: write bytes, read until a line matches. */
function conversation(socket: Socket) {
  let buf = "";
  socket.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
  });
  return {
    send: (text: string) => socket.write(text),
    async until(re: RegExp, timeoutMs = 5000): Promise<string> {
      const start = Date.now();
      while (!re.test(buf)) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${re}; got:\n${buf}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const out = buf;
      buf = "";
      return out;
    },
  };
}

describe.each(["node", "deno"] as const)("IMAP with Python imaplib (mxedge under %s)", (runtime) => {
  let mx: RunningMxedge;
  const ids: string[] = [];
  let r: Results;

  beforeAll(async () => {
    mx = await startMxedge({ runtime });
    expect((await mx.cli(["domain", "add", "example.test"])).code).toBe(0);
    expect((await mx.cli(["user", "add", USER, "--password-stdin"], `${PASSWORD}\n`)).code).toBe(0);
    for (const subject of ["first imap", "second imap"]) {
      const sent = await smtpSend("plain", mx.ports.smtp, "alice@sender.test", USER, subject);
      expect(sent).toMatchObject({ ok: true, code: 250 });
      ids.push(sent.reply.split(" ").pop() as string);
    }
    const { stdout } = await run(
      "python3",
      [join(ROOT, "test/e2e/imap-imaplib.py"), String(mx.ports.imap), String(mx.ports.imaps), USER, PASSWORD],
      { timeout: 60_000 },
    );
    r = JSON.parse(stdout) as Results;
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("refuses LOGIN in plaintext and allows it after STARTTLS", () => {
    expect(r.plainCaps).toEqual(expect.arrayContaining(["STARTTLS", "LOGINDISABLED", "IMAP4REV1"]));
    expect(r.plainCaps).not.toContain("AUTH=PLAIN");
    expect(r.plainLogin).toMatch(/PRIVACYREQUIRED|LOGINDISABLED|disabled/);
    expect(r.tlsCaps).toContain("AUTH=PLAIN");
    expect(r.tlsCaps).not.toContain("STARTTLS");
  });

  it("lists the mailboxes with their special-use attributes", () => {
    expect(r.list).toEqual(
      expect.arrayContaining([
        '(\\HasNoChildren) "/" "INBOX"',
        '(\\HasNoChildren \\Sent) "/" "Sent"',
        '(\\HasNoChildren \\Trash) "/" "Trash"',
        '(\\HasNoChildren \\Junk) "/" "Junk"',
        '(\\HasNoChildren \\Drafts) "/" "Drafts"',
      ]),
    );
    expect(r.selectExists).toBe(2);
  });

  it("returns each body byte for byte as stored", async () => {
    expect(Object.keys(r.bodies)).toEqual(["1", "2"]);
    for (const [i, id] of ids.entries()) {
      const res = await fetch(`http://127.0.0.1:${mx.ports.http}/api/messages/${id}/raw`, {
        headers: { authorization: `Bearer ${mx.adminToken}` },
      });
      const stored = Buffer.from(await res.arrayBuffer());
      expect(Buffer.from(r.bodies[String(i + 1)] as string, "base64").equals(stored)).toBe(true);
    }
  });

  it("sets \\Seen on BODY[] but not on BODY.PEEK[]", () => {
    expect(r.flagsAfterPeek).toEqual(["1 (FLAGS ())"]);
    expect(r.flagsAfterBody).toEqual(["1 (FLAGS (\\Seen))"]);
    expect(r.headerFields).toBe("Subject: second imap\r\n\r\n");
    expect(r.envelopeLine).toMatch(
      /ENVELOPE \(NIL "second imap" \(\(NIL NIL "alice" "sender\.test"\)\) \(\(NIL NIL "alice" "sender\.test"\)\) \(\(NIL NIL "alice" "sender\.test"\)\) \(\(NIL NIL "someone" "example\.test"\)\) NIL NIL NIL "<second\.imap@e2e\.test>"\)/,
    );
    expect(r.envelopeLine).toMatch(/INTERNALDATE "[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000"/);
  });

  it("searches by subject, flags, body, OR, size and date", () => {
    expect(r.searchSubject).toBe("2");
    expect(r.searchUnseen).toBe("2");
    expect(r.searchNotSeen).toBe("2");
    expect(r.searchBody).toBe("1 2");
    expect(r.searchOr).toBe("1 2");
    expect(r.searchLarger).toBe("");
    expect(r.searchSince).toBe("1 2");
  });

  it("stores flags and keywords", () => {
    expect(r.storeAdd).toEqual(["1 (FLAGS (\\Seen \\Flagged $Work))", "2 (FLAGS (\\Flagged $Work))"]);
    expect(r.storeRemove).toEqual(["2 (FLAGS ($Work))"]);
    expect(r.searchFlagged).toBe("1");
    expect(r.searchKeyword).toBe("1 2");
  });

  it("appends with flags and date, and serves the MIME structure and parts", () => {
    expect(r.append).toMatch(/^\[APPENDUID \d+ 3\] APPEND completed$/);
    expect(r.afterAppendExists).toBe(3);
    const line = r.appendedFetch.join("");
    expect(line).toContain('INTERNALDATE " 1-Feb-2024 09:00:00 +0000"');
    expect(line).toContain(
      'BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 15 0 NIL NIL NIL NIL)("APPLICATION" "OCTET-STREAM" ("NAME" "a.bin") NIL NIL "BASE64" 8 NIL ("ATTACHMENT" ("FILENAME" "a.bin")) NIL NIL) "MIXED" ("BOUNDARY" "XYZ") NIL NIL NIL)',
    );
    const parts = r.appendedParts.map((p) => Buffer.from(p, "base64").toString("latin1"));
    expect(parts).toEqual([
      "Hello part one.",
      "Content-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\n",
      "AAECAw==",
      "From",
    ]);
  });

  it("copies, moves with COPYUID, and expunges", () => {
    expect(r.copy).toMatch(/^\[COPYUID \d+ 1 1\] COPY completed$/);
    expect(r.moveMissing).toMatch(/^NO \[TRYCREATE\]/);
    expect(r.move).toBe("OK");
    expect(r.moveUntagged).toEqual(["3"]);
    expect(r.expunge).toEqual(["2"]);
    expect(r.status).toBe('"Trash" (MESSAGES 1 UNSEEN 0 UIDNEXT 2)');
    expect(r.statusArchive).toBe('"Archive" (MESSAGES 1)');
    expect(r.finalExists).toBe(1);
  });

  it("serves IMAPS with AUTHENTICATE PLAIN and refuses bad passwords and read-only stores", () => {
    expect(r.imapsCaps).toEqual(expect.arrayContaining(["AUTH=PLAIN", "SASL-IR", "IDLE", "UIDPLUS", "MOVE"]));
    expect(r.imapsExamine).toBe(1);
    expect(r.readOnlyStore).toMatch(/^NO \[READ-ONLY\]/);
    expect(r.badLogin).toMatch(/AUTHENTICATIONFAILED/);
  });

  it("discards commands pipelined after STARTTLS and refuses oversized literals", async () => {
    const plain = netConnect(mx.ports.imap, "127.0.0.1");
    const c = conversation(plain);
    await c.until(/^\* OK .*\r\n/);
    c.send(`a LOGIN ${USER} ${PASSWORD}\r\n`);
    expect(await c.until(/^a /m)).toMatch(/^a NO \[PRIVACYREQUIRED\]/m);
    c.send("b LOGIN {999999999}\r\n");
    expect(await c.until(/^b /m)).toMatch(/^b BAD Literal too large/m);
    plain.removeAllListeners("data");
    // An injected command in the same packet as STARTTLS must never run.
    plain.write("c STARTTLS\r\nd CAPABILITY\r\n");
    await new Promise<void>((resolve, reject) => {
      setTimeout(() => reject(new Error(`no tagged OK for STARTTLS; got ${JSON.stringify(seen)}`)), 5000);
      let seen = "";
      const onData = (d: Buffer) => {
        seen += d.toString();
        if (seen.includes("c OK")) {
          plain.off("data", onData);
          resolve();
        }
      };
      plain.on("data", onData);
    });
    const tls = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await new Promise((r, reject) => {
      setTimeout(() => reject(new Error("TLS handshake after STARTTLS did not complete")), 5000);
      tls.once("secureConnect", r);
    });
    const t = conversation(tls as unknown as Socket);
    t.send("e NOOP\r\n");
    const after = await t.until(/^e /m);
    expect(after).not.toMatch(/^d /m);
    expect(after).toMatch(/^e OK/m);
    t.send(`f LOGIN ${USER} {${PASSWORD.length}+}\r\n${PASSWORD}\r\n`);
    expect(await t.until(/^f /m)).toMatch(/^f OK \[CAPABILITY/m);
    t.send('g SELECT "INBOX"\r\ng1 IDLE\r\n');
    expect(await t.until(/^\+ idling/m)).toMatch(/g OK \[READ-WRITE\]/);
    t.send("DONE\r\nh LOGOUT\r\n");
    const bye = await t.until(/^h /m);
    expect(bye).toMatch(/^g1 OK IDLE terminated/m);
    expect(bye).toMatch(/^\* BYE/m);
    tls.destroy();
  });
});
