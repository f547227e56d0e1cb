/**
 * The IMAP engine in-process: the edge app on an in-memory SQLite store, and raw IMAP over a loopback
 * socket. Covers the extensions the e2e clients do not. Every case runs over both store transports:
 * HTTP (the relay's ImapClient calling the edge app's fetch(), as a remote relay does) and in-process
 * (LocalImapStore calling the same operations, as the embedded relay does).
 */
import { createConnection, createServer, type Server } from "node:net";
import { constants, createDeflateRaw, inflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../edge/app.ts";
import { imapStoreApi } from "../../edge/imap-api.ts";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { EdgeClient } from "../../relay/edge-client.ts";
import { createImapEngine } from "../../relay/imap/server.ts";
import { ImapClient, type ImapStore } from "../../relay/imap-client.ts";
import { LocalImapStore } from "../../relay/imap-local.ts";
import { createLogger } from "../../relay/log.ts";
import { directConnection } from "../../src/connection.ts";
import { createStore } from "../../src/store/index.ts";

let server: Server;
let port = 0;
let client: ImapStore;
let db: { prepare(sql: string): { run(...args: unknown[]): unknown } };

async function setup(transport: "http" | "in-process") {
  const handle = openSqlite(":memory:");
  await migrateSqlite(handle);
  db = handle.database as never;
  const store = createStore(handle.driver);
  await store.directory.addDomain("example.test");
  await store.directory.addUser("bob@example.test", "long enough password");
  const app = createEdgeApp({
    store,
    relaySecret: "relay-secret",
    adminToken: "admin",
    quotaBytes: 10 * 1024 * 1024,
  });
  const opts = {
    fetch: async (r: Request) => app.fetch(r),
    baseUrl: "http://edge.test",
    secret: "relay-secret",
    timeoutMs: 5000,
  };
  client =
    transport === "http"
      ? new ImapClient(opts)
      : new LocalImapStore({
          api: imapStoreApi({ store, maxMessageBytes: 25 * 1024 * 1024, quotaBytes: 10 * 1024 * 1024 }),
          onWrite: () => {},
          onError: (err) => {
            throw err;
          },
        });
  const engine = createImapEngine({
    listener: { name: "imaps", role: "imaps", host: "127.0.0.1", port: 0 } as never,
    hostname: "mx.test",
    edge: new EdgeClient(opts),
    store: client,
    secureContext: () => {
      throw new Error("no TLS in this test");
    },
    log: createLogger("silent"),
    maxMessageBytes: 1024 * 1024,
    idlePollMs: 50,
  });
  server = createServer((socket) => {
    const info = directConnection({ address: "127.0.0.1", port: 1 }, { address: "127.0.0.1", port: 2 });
    // As if a proxy in front had terminated TLS.
    engine.handle(socket, {
      ...info,
      tls: {
        terminatedBy: "proxy",
        version: null,
        cipher: null,
        sni: null,
        clientCertCn: null,
        clientCertVerified: false,
      },
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  port = typeof a === "object" && a ? a.port : 0;
}

/** Opens a session; `cmd` sends one command and resolves with everything up to its tagged reply. */
async function session() {
  const socket = createConnection(port, "127.0.0.1");
  let buf = "";
  socket.on("data", (d: Buffer) => {
    buf += d.toString();
  });
  const wait = async (re: RegExp) => {
    const start = Date.now();
    while (!re.test(buf)) {
      if (Date.now() - start > 5000) throw new Error(`timeout waiting for ${re}:\n${buf}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const out = buf;
    buf = "";
    return out;
  };
  await wait(/^\* OK .*\r\n/);
  let n = 0;
  const cmd = async (text: string) => {
    const tag = `t${++n}`;
    socket.write(`${tag} ${text}\r\n`);
    return wait(new RegExp(`^${tag} (OK|NO|BAD).*\\r\\n`, "m"));
  };
  return { cmd, wait, send: (t: string) => socket.write(t), close: () => socket.destroy() };
}

describe.each(["http", "in-process"] as const)("IMAP session (%s store transport)", (transport) => {
  beforeAll(() => setup(transport));
  afterAll(() => {
    server?.close();
  });

  it("runs LOGIN, APPEND, ESEARCH, LIST-STATUS, CONDSTORE and UID EXPUNGE", async () => {
    const s = await session();
    expect(await s.cmd("CAPABILITY")).toMatch(/AUTH=PLAIN/);
    expect(await s.cmd("LOGIN bob@example.test {20+}\r\nlong enough password")).toMatch(/t2 OK \[CAPABILITY/);
    for (const [i, flags] of ["()", "(\\Seen)", "(\\Seen $Work)", "(\\Deleted)"].entries()) {
      const msg = `Subject: m${i}\r\n\r\nbody ${i}\r\n`;
      expect(await s.cmd(`APPEND INBOX ${flags} {${msg.length}+}\r\n${msg}`)).toMatch(
        new RegExp(`OK \\[APPENDUID \\d+ ${i + 1}\\]`),
      );
    }
    expect(await s.cmd("ENABLE CONDSTORE")).toMatch(/\* ENABLED CONDSTORE/);
    const sel = await s.cmd("SELECT INBOX");
    expect(sel).toMatch(/\* 4 EXISTS/);
    expect(sel).toMatch(/\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Work\)/);
    expect(sel).toMatch(/\[HIGHESTMODSEQ 5\]/);
    expect(await s.cmd("SEARCH RETURN (MIN MAX COUNT ALL) SEEN")).toMatch(
      /\* ESEARCH \(TAG "t9"\) MIN 2 MAX 3 ALL 2:3 COUNT 2/,
    );
    expect(await s.cmd("UID SEARCH RETURN () NOT SEEN")).toMatch(/\* ESEARCH \(TAG "t10"\) UID ALL 1,4/);
    expect(await s.cmd("SEARCH MODSEQ 4")).toMatch(/\* SEARCH 3 4 \(MODSEQ 5\)/);
    expect(await s.cmd('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))')).toMatch(
      /\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r\n[\s\S]*\* STATUS "INBOX" \(MESSAGES 4 UNSEEN 2\)/,
    );
    const store = await s.cmd("STORE 1:2 (UNCHANGEDSINCE 2) +FLAGS (\\Flagged)");
    expect(store).toMatch(/\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(6\)\)/);
    expect(store).toMatch(/OK \[MODIFIED 2\]/);
    expect(await s.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE 5)")).toMatch(
      /^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(6\)\)\r\nt\d+ OK/m,
    );
    const exp = await s.cmd("UID EXPUNGE 1:3");
    expect(exp).not.toMatch(/EXPUNGE\r\n/);
    const exp2 = await s.cmd("UID EXPUNGE 4");
    expect(exp2).toMatch(/^\* 4 EXPUNGE\r\n/m);
    expect(await s.cmd("STATUS INBOX (MESSAGES UIDNEXT HIGHESTMODSEQ)")).toMatch(
      /\* STATUS "INBOX" \(MESSAGES 3 UIDNEXT 5 HIGHESTMODSEQ 7\)/,
    );
    expect(await s.cmd("FETCH 4 FLAGS")).toMatch(/BAD Invalid sequence set/);
    s.close();
  });

  it("manages mailboxes with modified UTF-7 names and reports changes from other sessions", async () => {
    const a = await session();
    const b = await session();
    await a.cmd('LOGIN "bob@example.test" "long enough password"');
    await b.cmd("AUTHENTICATE PLAIN AGJvYkBleGFtcGxlLnRlc3QAbG9uZyBlbm91Z2ggcGFzc3dvcmQ=");
    expect(await a.cmd("CREATE Entw&APw-rfe/2024")).toMatch(/OK/);
    expect(await a.cmd('LIST "" "Entw*"')).toMatch(/\* LIST \(\\HasChildren\) "\/" "Entw&APw-rfe"/);
    expect(await a.cmd("RENAME Entw&APw-rfe Alt")).toMatch(/OK/);
    expect(await a.cmd('LIST "" "Alt/%"')).toMatch(/"Alt\/2024"/);
    expect(await a.cmd("ENABLE UTF8=ACCEPT")).toMatch(/ENABLED UTF8=ACCEPT/);
    expect(await a.cmd('CREATE "Grüße"')).toMatch(/OK/);
    expect(await b.cmd('LIST "" "Gr*"')).toMatch(/"Gr&APwA3w-e"/);
    expect(await a.cmd("UNSUBSCRIBE Alt")).toMatch(/OK/);
    expect(await a.cmd('LSUB "" "Alt*"')).toMatch(/LSUB \(\) "\/" "Alt\/2024"\r\n[^*]*OK/);
    expect(await a.cmd("DELETE Alt/2024")).toMatch(/OK/);
    expect(await a.cmd("DELETE INBOX")).toMatch(/NO/);
    expect(await a.cmd("SELECT Nope")).toMatch(/NO \[NONEXISTENT\]/);

    await a.cmd("SELECT INBOX");
    await b.cmd("SELECT INBOX");
    a.send("i1 IDLE\r\n");
    await a.wait(/^\+ idling/m);
    await b.cmd("STORE 1 +FLAGS (\\Answered)");
    expect(await a.wait(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Answered\)/)).toBeTruthy();
    const msg = "Subject: new\r\n\r\nx\r\n";
    await b.cmd(`APPEND INBOX {${msg.length}+}\r\n${msg}`);
    expect(await a.wait(/\* 4 EXISTS/)).toBeTruthy();
    await b.cmd("STORE 1:2 +FLAGS.SILENT (\\Deleted)");
    await b.cmd("EXPUNGE");
    const gone = await a.wait(/\* 1 EXPUNGE\r\n\* 1 EXPUNGE\r\n/);
    expect(gone).not.toMatch(/\* 0 EXISTS/);
    a.send("DONE\r\n");
    expect(await a.wait(/^i1 OK/m)).toBeTruthy();
    expect(await a.cmd("FETCH 1:* (UID)")).toMatch(/\* 1 FETCH \(UID 3\)\r\n\* 2 FETCH \(UID 5\)/);
    expect(await a.cmd("UID MOVE 5 Trash")).toMatch(/\* OK \[COPYUID \d+ 5 1\][\s\S]*\* 2 EXPUNGE/);
    expect(await a.cmd("CLOSE")).toMatch(/OK/);
    expect(await a.cmd("FETCH 1 UID")).toMatch(/BAD/);
    expect(await a.cmd("LOGOUT")).toMatch(/\* BYE/);
    b.close();
  });

  it("answers the relay's watch poll only for mailboxes of the named user", async () => {
    const boxes = await client.mailboxes("bob@example.test");
    const inbox = boxes.find((b) => b.name === "INBOX");
    if (!inbox) throw new Error("no INBOX");
    const res = await client.watch([
      { user: "bob@example.test", mailboxId: inbox.id },
      { user: "mallory@example.test", mailboxId: inbox.id },
      { user: "bob@example.test", mailboxId: 99_999 },
    ]);
    expect(res.mailboxes).toEqual([{ mailboxId: inbox.id, highestModseq: expect.any(Number) }]);
    await expect(client.select("mallory@example.test", "INBOX")).rejects.toMatchObject({
      code: "nonexistent",
    });
  });

  it("serves BINARY sections and takes literal8 in APPEND", async () => {
    const s = await session();
    await s.cmd('LOGIN "bob@example.test" "long enough password"');
    await s.cmd("CREATE Bin");
    const msg =
      'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n' +
      "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n";
    expect(await s.cmd(`APPEND Bin ~{${msg.length}+}\r\n${msg}`)).toMatch(/OK \[APPENDUID \d+ 1\]/);
    await s.cmd("SELECT Bin");
    const res = await s.cmd("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2] BINARY[1]<0.1>)");
    expect(res).toContain(
      "BINARY.SIZE[2] 3 BINARY[2] ~{3}\r\n\u0000\u0001\u0002 BINARY[1]<0> {1}\r\nh FLAGS (\\Seen))",
    );
    s.close();
  });

  it("speaks COMPRESS=DEFLATE after login", async () => {
    const socket = createConnection(port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (d: Buffer) => received.push(d));
    const text = () => Buffer.concat(received).toString("latin1");
    const waitFor = async (pred: () => boolean) => {
      const start = Date.now();
      while (!pred()) {
        if (Date.now() - start > 5000) throw new Error(`timeout: ${text()}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await waitFor(() => text().includes("\r\n"));
    socket.write('a LOGIN "bob@example.test" "long enough password"\r\n');
    await waitFor(() => /a OK \[CAPABILITY [^\]]*COMPRESS=DEFLATE/.test(text()));
    socket.write("b COMPRESS DEFLATE\r\n");
    await waitFor(() => text().includes("b OK DEFLATE active\r\n"));
    received.length = 0;
    const deflate = createDeflateRaw();
    deflate.on("data", (d: Buffer) => socket.write(d));
    deflate.write('c NOOP\r\nd LIST "" INBOX\r\n');
    deflate.flush(constants.Z_SYNC_FLUSH);
    const inflated = () => {
      try {
        return inflateRawSync(Buffer.concat(received), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
      } catch {
        return "";
      }
    };
    await waitFor(() => inflated().includes("d OK"));
    expect(inflated()).toMatch(
      /^c OK NOOP completed\r\n\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r\nd OK LIST completed\r\n$/,
    );
    socket.destroy();
  });

  it("resyncs with QRESYNC: VANISHED (EARLIER) at SELECT and UID FETCH, VANISHED for live expunges", async () => {
    const a = await session();
    const b = await session();
    await a.cmd('LOGIN "bob@example.test" "long enough password"');
    await b.cmd('LOGIN "bob@example.test" "long enough password"');
    await a.cmd("CREATE Q");
    for (let i = 1; i <= 5; i++) {
      const msg = `Subject: q${i}\r\n\r\nq\r\n`;
      await a.cmd(`APPEND Q {${msg.length}+}\r\n${msg}`);
    }
    expect(await a.cmd("SELECT Q (QRESYNC (1 1))")).toMatch(/BAD/);
    expect(await a.cmd("ENABLE QRESYNC")).toMatch(/\* ENABLED QRESYNC/);
    const first = await a.cmd("SELECT Q");
    const validity = Number(/UIDVALIDITY (\d+)/.exec(first)?.[1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(first)?.[1]);
    await a.cmd("UNSELECT");
    // Another session changes a flag and expunges two messages while the client is away.
    await b.cmd("SELECT Q");
    await b.cmd("UID STORE 1 +FLAGS (\\Flagged)");
    await b.cmd("UID STORE 2,4 +FLAGS (\\Deleted)");
    await b.cmd("EXPUNGE");
    const resync = await a.cmd(`SELECT Q (QRESYNC (${validity} ${modseq} 1:5))`);
    expect(resync).toMatch(/\* 3 EXISTS/);
    expect(resync).toMatch(/^\* VANISHED \(EARLIER\) 2,4\r\n/m);
    expect(resync).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)\r\n/m);
    expect(resync).not.toMatch(/UID [35] FLAGS/);
    // A stale UIDVALIDITY gets a plain SELECT, and a previous mailbox is announced closed.
    const stale = await a.cmd(`SELECT Q (QRESYNC (${validity + 1} ${modseq}))`);
    expect(stale).toMatch(/^\* OK \[CLOSED\]/m);
    expect(stale).not.toMatch(/VANISHED/);
    const fetched = await a.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    expect(fetched).toMatch(/^\* VANISHED \(EARLIER\) 2,4\r\n\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) MODSEQ/m);
    expect(await a.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`)).toMatch(/BAD/);
    // Live expunges (own and others') arrive as VANISHED under QRESYNC.
    await b.cmd("UID STORE 3 +FLAGS (\\Deleted)");
    await b.cmd("EXPUNGE");
    expect(await a.cmd("NOOP")).toMatch(/^\* VANISHED 3\r\n/m);
    await a.cmd("UID STORE 5 +FLAGS (\\Deleted)");
    const own = await a.cmd("EXPUNGE");
    expect(own).toMatch(/^\* VANISHED 5\r\n/m);
    expect(own).not.toMatch(/EXPUNGE\r\n/);
    a.close();
    b.close();
  });

  it("reports QUOTA (STORAGE) and refuses APPEND beyond it", async () => {
    const s = await session();
    await s.cmd('LOGIN "bob@example.test" "long enough password"');
    expect(await s.cmd("CAPABILITY")).toMatch(/ QUOTA QUOTA=RES-STORAGE/);
    const root = await s.cmd("GETQUOTAROOT INBOX");
    expect(root).toMatch(/^\* QUOTAROOT "INBOX" ""\r\n\* QUOTA "" \(STORAGE \d+ 10240\)\r\n/m);
    expect(await s.cmd('GETQUOTA ""')).toMatch(/\* QUOTA "" \(STORAGE \d+ 10240\)/);
    expect(await s.cmd('SETQUOTA "" (STORAGE 1)')).toMatch(/NO \[NOPERM\]/);
    // The user's own limit overrides the default.
    db.prepare("UPDATE users SET quota_bytes = 1 WHERE login = 'bob@example.test'").run();
    const msg = "Subject: big\r\n\r\nover quota\r\n";
    expect(await s.cmd(`APPEND INBOX {${msg.length}+}\r\n${msg}`)).toMatch(/NO \[OVERQUOTA\]/);
    db.prepare("UPDATE users SET quota_bytes = NULL WHERE login = 'bob@example.test'").run();
    expect(await s.cmd(`APPEND INBOX {${msg.length}+}\r\n${msg}`)).toMatch(/OK \[APPENDUID/);
    s.close();
  });

  it("speaks IMAP4rev2 once enabled: ESEARCH only, no RECENT, LIST at SELECT, SEARCHRES", async () => {
    const s = await session();
    await s.cmd('LOGIN "bob@example.test" "long enough password"');
    expect(await s.cmd("CAPABILITY")).toMatch(/IMAP4rev1 IMAP4rev2 /);
    expect(await s.cmd("ENABLE IMAP4rev2")).toMatch(/\* ENABLED IMAP4rev2/);
    const sel = await s.cmd("SELECT INBOX");
    expect(sel).not.toMatch(/RECENT/);
    expect(sel).toMatch(/^\* LIST \(\) "\/" "INBOX"\r\n/m);
    const found = await s.cmd("UID SEARCH ALL");
    expect(found).toMatch(/^\* ESEARCH \(TAG "t\d+"\) UID ALL \d/m);
    expect(found).not.toMatch(/\* SEARCH/);
    const saved = await s.cmd('SEARCH RETURN (SAVE) SUBJECT "m2"');
    expect(saved).not.toMatch(/ESEARCH/);
    expect(await s.cmd("FETCH $ (UID)")).toMatch(/^\* \d+ FETCH \(UID 3\)\r\nt\d+ OK/m);
    // "$" inside SEARCH criteria (RFC 5182 §2.1), as a sequence set and as a UID set.
    expect(await s.cmd("UID SEARCH $")).toMatch(/^\* ESEARCH \(TAG "t\d+"\) UID ALL 3\r\n/m);
    expect(await s.cmd("UID SEARCH UID $ SUBJECT m2")).toMatch(/^\* ESEARCH \(TAG "t\d+"\) UID ALL 3\r\n/m);
    expect(await s.cmd("UID SEARCH NOT $ UID 3")).toMatch(/^\* ESEARCH \(TAG "t\d+"\) UID\r\n/m);
    expect(await s.cmd("CREATE Ärger")).toMatch(/OK/);
    expect(await s.cmd('LIST "" "Är*"')).toMatch(/"\/" \{6\}\r\nÄrger\r\n/);
    s.close();
  });

  it("answers LIST-EXTENDED selection and return options, RECURSIVEMATCH with CHILDINFO", async () => {
    const s = await session();
    await s.cmd('LOGIN "bob@example.test" "long enough password"');
    await s.cmd("CREATE Lx/child");
    await s.cmd("UNSUBSCRIBE Lx");
    const rec = await s.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Lx*"');
    expect(rec).toMatch(/^\* LIST \(\) "\/" "Lx" \("CHILDINFO" \("SUBSCRIBED"\)\)\r\n/m);
    expect(rec).toMatch(/^\* LIST \(\\HasNoChildren \\Subscribed\) "\/" "Lx\/child"\r\n/m);
    expect(await s.cmd('LIST (SUBSCRIBED) "" "Lx"')).not.toMatch(/\* LIST/);
    expect(await s.cmd('LIST (RECURSIVEMATCH) "" "*"')).toMatch(/BAD/);
    expect(await s.cmd('LIST (BOGUS) "" "*"')).toMatch(/BAD/);
    expect(await s.cmd('LIST "" "*" RETURN (BOGUS)')).toMatch(/BAD/);
    const special = await s.cmd('LIST (SPECIAL-USE) "" "*" RETURN (SUBSCRIBED CHILDREN)');
    expect(special).toMatch(/\* LIST \(\\HasNoChildren \\Trash \\Subscribed\) "\/" "Trash"/);
    expect(special).not.toMatch(/"INBOX"/);
    s.close();
  });

  it("reselects from the relay's snapshot while the mailbox is unchanged, and reloads once it moved", async () => {
    const a = await session();
    const b = await session();
    await a.cmd('LOGIN "bob@example.test" "long enough password"');
    await b.cmd('LOGIN "bob@example.test" "long enough password"');
    await a.cmd("CREATE Snap");
    for (let i = 0; i < 3; i++) {
      const msg = `Subject: s${i}\r\n\r\ns\r\n`;
      await a.cmd(`APPEND Snap {${msg.length}+}\r\n${msg}`);
    }
    const first = await a.cmd("SELECT Snap");
    expect(first).toMatch(/\* 3 EXISTS/);
    const full = await client.select("bob@example.test", "Snap");
    const same = await client.select("bob@example.test", "Snap", {
      id: full.id,
      uidValidity: full.uidValidity,
      highestModseq: full.highestModseq,
    });
    expect(same).toMatchObject({ unchanged: true, messages: [] });
    expect(await a.cmd("SELECT Snap")).toMatch(/\* 3 EXISTS/);
    await b.cmd("SELECT Snap");
    await b.cmd("STORE 2 +FLAGS (\\Flagged)");
    await b.cmd("STORE 3 +FLAGS (\\Deleted)");
    await b.cmd("EXPUNGE");
    await a.cmd("UNSELECT");
    const again = await a.cmd("SELECT Snap");
    expect(again).toMatch(/\* 2 EXISTS/);
    expect(await a.cmd("FETCH 1:* (UID FLAGS)")).toMatch(
      /\* 1 FETCH \(UID 1 FLAGS \(\)\)\r\n\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\)\)\r\n/,
    );
    a.close();
    b.close();
  });
});
