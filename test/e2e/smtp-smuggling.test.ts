/**
 * SMTP smuggling (bare CR/LF around the end-of-DATA dot) against a real `mxedge serve`, with raw sockets.
 *
 * smtp-server ends DATA only at <CR><LF>.<CR><LF>; every other "ending" below is message content. So the
 * smuggled MAIL/RCPT/DATA after it is content too, and the transaction ends at the real terminator:
 *   - reject (default): 554 5.5.2, nothing stored; the message pipelined behind it is stored normally.
 *   - normalize: one message (smuggled text included as content, bare CR/LF turned into CRLF).
 * Never two messages from one, never a stored bare CR or LF.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningMxedge } from "./harness.ts";
import { BARE_CR_OR_LF, listMessages, rawMessages, startWithUser, USER } from "./smtp-fixtures.ts";
import { openSession } from "./smtp-raw.ts";

const ENDINGS: Array<[string, string]> = [
  ["LF.LF", "\n.\n"],
  ["CR.CR", "\r.\r"],
  ["CR.LF", "\r.\n"],
  ["LF.CR", "\n.\r"],
  ["LF.CRLF", "\n.\r\n"],
  ["CRLF.LF", "\r\n.\n"],
  ["CR.CRLF", "\r.\r\n"],
  ["CRLF.CR", "\r\n.\r"],
  ["NUL before the dot", "\r\n\0.\r\n"],
];

const envelope = (from: string) => `MAIL FROM:<${from}>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`;

/** One write: a message whose body holds `ending` + a whole smuggled transaction, then a second message. */
function attack(tag: string, ending: string): string {
  return (
    envelope("attacker@sender.test") +
    `Subject: outer ${tag}\r\nMessage-ID: <outer.${tag}@sender.test>\r\n\r\nfirst part${ending}` +
    envelope("ceo@example.test") +
    `Subject: smuggled ${tag}\r\n\r\nsmuggled body\r\n.\r\n` +
    envelope("alice@sender.test") +
    `Subject: second ${tag}\r\nMessage-ID: <second.${tag}@sender.test>\r\n\r\nhello\r\n.\r\n`
  );
}

/** Sends the attack in one write and returns the codes of all replies up to the last DATA end. */
async function runAttack(port: number, tag: string, ending: string): Promise<number[]> {
  const c = await openSession(port);
  c.write(attack(tag, ending));
  const codes: number[] = [];
  // MAIL, RCPT, DATA(354), end → for the outer and the second message.
  for (let i = 0; i < 8; i++) {
    const r = await c.reply(10_000);
    if (!r) break;
    codes.push(r.code);
  }
  c.write("QUIT\r\n");
  await c.reply(2000);
  c.close();
  return codes;
}

function checkStore(all: Map<string, string>) {
  for (const [id, raw] of all) {
    expect(BARE_CR_OR_LF.test(raw), `message ${id} has a bare CR or LF`).toBe(false);
  }
}

describe("SMTP smuggling: bare CR/LF rejected (default)", () => {
  let mx: RunningMxedge;
  beforeAll(async () => {
    mx = await startWithUser();
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it.each(ENDINGS)("%s: refused or stored whole, never split", async (name, ending) => {
    const tag = name.replace(/\W+/g, "-");
    const codes = await runAttack(mx.ports.smtp, tag, ending);
    const clean = !BARE_CR_OR_LF.test(ending);
    expect(codes).toEqual([250, 250, 354, clean ? 250 : 554, 250, 250, 354, 250]);
    const listed = await listMessages(mx);
    const subjects = listed.map((m) => m.subject ?? "");
    expect(subjects.filter((s) => s === `second ${tag}`)).toHaveLength(1);
    expect(subjects.filter((s) => s === `outer ${tag}`)).toHaveLength(clean ? 1 : 0);
    expect(subjects.some((s) => s.startsWith("smuggled"))).toBe(false);
  });

  it("refuses a bare LF anywhere in the body, not only around a dot", async () => {
    const c = await openSession(mx.ports.smtp);
    c.write(`${envelope("a@sender.test")}Subject: lf-only\n\nbody\r\n.\r\n`);
    expect((await c.reply())?.code).toBe(250);
    expect((await c.reply())?.code).toBe(250);
    expect((await c.reply())?.code).toBe(354);
    const end = await c.reply();
    expect(end?.text).toMatch(/^554 5\.5\.2 /);
    c.close();
    expect((await listMessages(mx)).some((m) => m.subject === "lf-only")).toBe(false);
  });

  it("never stored a bare CR or LF", async () => {
    checkStore(await rawMessages(mx));
  });
});

describe("SMTP smuggling: bareNewlines = normalize", () => {
  let mx: RunningMxedge;
  beforeAll(async () => {
    mx = await startWithUser({ toml: '[limits]\nbareNewlines = "normalize"\n' });
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("stores each attack as exactly one message with CRLF only, plus the pipelined second one", async () => {
    for (const [name, ending] of ENDINGS) {
      const tag = `n-${name.replace(/\W+/g, "-")}`;
      const codes = await runAttack(mx.ports.smtp, tag, ending);
      expect(codes, name).toEqual([250, 250, 354, 250, 250, 250, 354, 250]);
    }
    const listed = await listMessages(mx);
    expect(listed).toHaveLength(ENDINGS.length * 2);
    expect(listed.some((m) => (m.subject ?? "").startsWith("smuggled"))).toBe(false);
    const all = await rawMessages(mx);
    checkStore(all);
    for (const raw of all.values()) {
      if (raw.includes("Subject: outer")) expect(raw).toContain("Subject: smuggled");
    }
  });
});
