/**
 * One IMAP connection: reads commands through the incremental parser one at a time, keeps the
 * session state (not authenticated → authenticated → selected), and answers every command with a
 * tagged response. The store is reached only through the edge's IMAP API.
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { SecureContext } from "node:tls";
import type { ConnectionInfo } from "../../src/connection.ts";
import { CommandParser, type ParserEvent, tokenText } from "../../src/imap/parser.ts";
import { formatSet } from "../../src/imap/sequence.ts";
import type { MessageView } from "../../src/imap/structure.ts";
import type { RelayEdge } from "../edge-client.ts";
import type { ImapStore } from "../imap-client.ts";
import type { Logger } from "../log.ts";
import { append } from "./append.ts";
import { capabilities, decodePlain } from "./auth.ts";
import type { BodyCache, SelectCache, ViewCache } from "./cache.ts";
import { copy, expunge, store } from "./changes.ts";
import { Compression } from "./compress.ts";
import { bad, type Command, no, ok, type Result, type SessionContext } from "./context.ts";
import { fetch } from "./fetch.ts";
import type { ImapLimits } from "./limits.ts";
import { list, select, simple, status, storeFailure } from "./mailboxes.ts";
import { quota } from "./quota.ts";
import { search } from "./search.ts";
import type { MailboxSnapshot, SelectedMailbox } from "./selected.ts";
import { upgradeToTls } from "./tls-upgrade.ts";
import type { MailboxWatcher } from "./watcher.ts";

export interface SessionOptions {
  hostname: string;
  /** "starttls": plaintext until STARTTLS; "implicit": TLS from the start (or proxy-terminated). */
  startTls: boolean;
  secureContext: () => SecureContext;
  edge: RelayEdge;
  store: ImapStore;
  cache: BodyCache;
  views: ViewCache<MessageView>;
  snapshots: SelectCache<MailboxSnapshot>;
  log: Logger;
  watcher: MailboxWatcher;
  autologoutMs: number;
  maxAppendBytes: number;
  limits: ImapLimits;
}

type State = "notauth" | "auth" | "logout";

const MAX_PENDING_BYTES = 256 * 1024;
/**
 * A refused command (line over the parser's cap, a LITERAL+ over the literal cap) is skipped until it
 * ends, so its tagged BAD/NO comes in order. A client that keeps sending past this much is not going to
 * end it: it gets BYE and the connection is closed, instead of feeding the server bytes forever.
 */
const MAX_DISCARD_BYTES = 1024 * 1024;
/** Marks a result whose tagged response the handler already sent (STARTTLS). */
const SENT = "\u0000";

export class ImapSession implements SessionContext {
  #socket: Socket;
  #info: ConnectionInfo;
  readonly #opts: SessionOptions;
  readonly #parser: CommandParser;
  #state: State = "notauth";
  #running = false;
  #lineWaiter: ((line: string | null) => void) | null = null;
  #syncing: Promise<void> | null = null;
  #out = "";
  #detach = () => {};
  #compression: Compression | null = null;
  #flushScheduled = false;
  /** Set once the session gave up on the client (BYE sent): further input is ignored. */
  #closing = false;
  user = "";
  readonly enabled = new Set<string>();
  selected: SelectedMailbox | null = null;

  constructor(socket: Socket, info: ConnectionInfo, opts: SessionOptions) {
    this.#socket = socket;
    this.#info = info;
    this.#opts = opts;
    this.#parser = new CommandParser({ maxAppendLiteral: opts.maxAppendBytes });
  }

  get store(): ImapStore {
    return this.#opts.store;
  }
  get cache(): BodyCache {
    return this.#opts.cache;
  }
  get views(): ViewCache<MessageView> {
    return this.#opts.views;
  }
  get snapshots(): SelectCache<MailboxSnapshot> {
    return this.#opts.snapshots;
  }

  start(): void {
    this.#attach(this.#socket);
    this.line(`* OK [CAPABILITY ${this.#capabilities().join(" ")}] ${this.#opts.hostname} mxedge IMAP ready`);
  }

  #attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.setTimeout(this.#opts.autologoutMs);
    const onTimeout = () => {
      this.line("* BYE Autologout; idle for too long");
      void this.#end();
    };
    const onData = (chunk: Buffer) =>
      this.#compression ? this.#compression.input(chunk) : this.#onData(chunk);
    const onClose = () => {
      this.#compression?.close();
      this.#state = "logout";
      const w = this.#lineWaiter;
      this.#lineWaiter = null;
      w?.(null);
    };
    socket.on("timeout", onTimeout);
    socket.on("data", onData);
    socket.on("close", onClose);
    // Only our own listeners come off at STARTTLS; the listener's bookkeeping stays.
    this.#detach = () => {
      socket.setTimeout(0);
      socket.off("timeout", onTimeout);
      socket.off("data", onData);
      socket.off("close", onClose);
    };
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closing) return; // after our BYE: read and dropped, never parsed
    this.#parser.push(chunk);
    if (this.#parser.discarded > MAX_DISCARD_BYTES) {
      this.#closing = true;
      this.#state = "logout";
      this.#parser.reset();
      this.line("* BYE Command exceeds the line or literal limit; closing connection");
      void this.#end();
      // A client that ignores our FIN and keeps sending is cut off.
      setTimeout(() => this.#socket.destroy(), 2000).unref();
      return;
    }
    // A client that pipelines faster than we answer waits in its own socket buffer, not in our memory.
    if (this.#parser.buffered > MAX_PENDING_BYTES && !this.#lineWaiter) this.#socket.pause();
    if (this.#lineWaiter) {
      const ev = this.#parser.next();
      if (ev?.type === "line") {
        const w = this.#lineWaiter;
        this.#lineWaiter = null;
        this.#parser.lineMode = false;
        w(ev.text);
      }
      return;
    }
    void this.#pump();
  }

  /** Waits for one raw line (AUTHENTICATE response, IDLE's DONE); null when the connection closed. */
  #waitLine(): Promise<string | null> {
    this.#parser.lineMode = true;
    const ev = this.#parser.next();
    if (ev?.type === "line") {
      this.#parser.lineMode = false;
      return Promise.resolve(ev.text);
    }
    if (this.#state === "logout") return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#lineWaiter = resolve;
    });
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#state !== "logout" && !this.#lineWaiter) {
        const ev = this.#parser.next();
        if (!ev) break;
        await this.#handle(ev);
      }
    } catch (err) {
      this.#opts.log.error("imap.session-error", { reason: (err as Error).message });
      this.line("* BYE Internal error");
      void this.#end();
    } finally {
      this.#running = false;
      if (this.#socket.isPaused() && this.#parser.buffered <= MAX_PENDING_BYTES) this.#socket.resume();
    }
  }

  /** Lines are coalesced and flushed together, so a response is a few TCP segments, not one per line. */
  line(text: string): void {
    this.#out += `${text}\r\n`;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => void this.#flush());
    }
  }

  /** Every byte to the client goes through here: straight to the socket, or through deflate. */
  #send(data: string | Uint8Array): boolean {
    if (this.#socket.destroyed) return true;
    if (this.#compression) {
      this.#compression.write(data);
      return true;
    }
    return this.#socket.write(data);
  }

  #flush(): Promise<void> {
    this.#flushScheduled = false;
    if (this.#out) this.#send(this.#out);
    this.#out = "";
    return this.#compression ? this.#compression.flush() : Promise.resolve();
  }

  /** Flushes what is pending (compressed or not), then closes. */
  async #end(): Promise<void> {
    await this.#flush();
    this.#socket.end();
  }

  async write(chunks: Array<string | Uint8Array>): Promise<void> {
    void this.#flush();
    if (this.#compression) {
      // One deflate write per batch: each write to the zlib stream is a thread-pool round trip, and
      // three per message made a message-by-message sync (mbsync) wait on them.
      const parts = chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "utf8") : c));
      this.#compression.write(Buffer.concat(parts));
      await this.#compression.flush();
      return this.#drained();
    }
    let text = "";
    const flushText = () => {
      if (text) this.#send(text);
      text = "";
    };
    let ok = true;
    for (const c of chunks) {
      if (typeof c === "string") text += c;
      else {
        flushText();
        ok = this.#send(c);
      }
      if (text.length > 65536) flushText();
    }
    flushText();
    if (ok) return this.#drained();
    return this.#drained(true);
  }

  /** Resolves once the socket can take more (at once unless it asked to wait). */
  async #drained(wait = false): Promise<void> {
    if (!this.#socket.writableNeedDrain && !wait) return;
    if (this.#socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#socket.off("drain", done);
        this.#socket.off("close", done);
        resolve();
      };
      this.#socket.once("drain", done);
      this.#socket.once("close", done);
    });
  }

  condstore(): void {
    this.enabled.add("CONDSTORE");
  }

  expunged(seqs: number[], uids: number[]): void {
    if (uids.length === 0) return;
    if (this.enabled.has("QRESYNC")) this.line(`* VANISHED ${formatSet(uids)}`);
    else for (const seq of seqs) this.line(`* ${seq} EXPUNGE`);
  }

  sync(allowExpunge: boolean): Promise<void> {
    // One poll at a time; a concurrent caller waits for the running one and then polls again.
    const run = async () => {
      const sel = this.selected;
      if (!sel) return;
      const changes = await this.store.changes(this.user, sel.id, sel.highestModseq);
      if (this.selected !== sel) return;
      const u = sel.apply(changes, allowExpunge);
      this.expunged(u.expunged, u.expungedUids);
      if (u.exists !== null) this.line(`* ${u.exists} EXISTS`);
      for (const f of u.flags) {
        const modseq = this.enabled.has("CONDSTORE") ? ` MODSEQ (${f.modseq})` : "";
        this.line(`* ${f.seq} FETCH (UID ${f.uid} FLAGS (${f.flags.join(" ")})${modseq})`);
      }
    };
    const next = (this.#syncing ?? Promise.resolve()).then(run, run);
    this.#syncing = next.finally(() => {
      if (this.#syncing === next) this.#syncing = null;
    });
    return next;
  }

  #tls(): boolean {
    return this.#info.tls !== null;
  }

  #capabilities(): string[] {
    return capabilities(this.#state !== "notauth", this.#tls(), this.#opts.startTls);
  }

  async #handle(ev: ParserEvent): Promise<void> {
    if (ev.type === "continue") {
      this.line("+ Ready for literal data");
      return;
    }
    if (ev.type === "line") return;
    if (ev.type === "error") {
      this.line(`${ev.tag} ${ev.code} ${ev.text}`);
      return;
    }
    let cmd: Command = { tag: ev.tag, name: ev.name, args: ev.args, uid: false };
    if (cmd.name === "UID") {
      const sub = (tokenText(cmd.args[0]) ?? "").toUpperCase();
      cmd = { tag: ev.tag, name: sub, args: cmd.args.slice(1), uid: true };
      if (!["FETCH", "STORE", "SEARCH", "COPY", "MOVE", "EXPUNGE"].includes(sub)) {
        this.line(`${cmd.tag} BAD Unknown UID command`);
        return;
      }
    }
    let result: Result;
    try {
      result = await this.#dispatch(cmd);
    } catch (err) {
      this.#opts.log.error("imap.command-failed", { command: cmd.name, reason: (err as Error).message });
      result = storeFailureSafe(err, cmd.name);
    }
    if (this.#state === "logout" && cmd.name !== "LOGOUT") return;
    if (result.text === SENT) return;
    this.line(`${cmd.tag} ${result.status} ${result.text}`);
    if (cmd.name === "LOGOUT") await this.#end();
  }

  async #dispatch(cmd: Command): Promise<Result> {
    switch (cmd.name) {
      case "CAPABILITY":
        this.line(`* CAPABILITY ${this.#capabilities().join(" ")}`);
        return ok("CAPABILITY completed");
      case "NOOP":
        if (this.selected) await this.sync(true);
        return ok("NOOP completed");
      case "LOGOUT":
        this.line("* BYE Logging out");
        this.#state = "logout";
        return ok("LOGOUT completed");
      case "ID":
        this.line('* ID ("name" "mxedge")');
        return ok("ID completed");
    }
    if (this.#state === "notauth") {
      switch (cmd.name) {
        case "STARTTLS":
          return this.#startTls(cmd);
        case "LOGIN":
          return this.#login(cmd);
        case "AUTHENTICATE":
          return this.#authenticate(cmd);
        default:
          return bad(`${cmd.name} not allowed now; log in first`);
      }
    }
    switch (cmd.name) {
      case "STARTTLS":
      case "LOGIN":
      case "AUTHENTICATE":
        return bad("Already authenticated");
      case "ENABLE":
        return this.#enable(cmd);
      case "COMPRESS":
        return this.#compress(cmd);
      case "NAMESPACE":
        this.line('* NAMESPACE (("" "/")) NIL NIL');
        return ok("NAMESPACE completed");
      case "LIST":
      case "LSUB":
        return list(this, cmd);
      case "STATUS":
        return status(this, cmd);
      case "CREATE":
      case "DELETE":
      case "RENAME":
      case "SUBSCRIBE":
      case "UNSUBSCRIBE":
        return simple(this, cmd);
      case "SELECT":
      case "EXAMINE":
        return select(this, cmd);
      case "APPEND":
        return append(this, cmd);
      case "IDLE":
        return this.#idle();
      case "GETQUOTA":
      case "GETQUOTAROOT":
      case "SETQUOTA":
        return quota(this, cmd);
    }
    if (!this.selected) return bad(`${cmd.name} needs a selected mailbox (or is unknown)`);
    switch (cmd.name) {
      case "CHECK":
        await this.sync(true);
        return ok("CHECK completed");
      case "CLOSE": {
        const r = await expunge(this, cmd, true);
        this.selected = null;
        return r.status === "OK" ? ok("CLOSE completed") : r;
      }
      case "UNSELECT":
        this.selected = null;
        return ok("UNSELECT completed");
      case "EXPUNGE":
        return expunge(this, cmd);
      case "FETCH":
        return fetch(this, cmd);
      case "STORE":
        return store(this, cmd);
      case "SEARCH":
        return search(this, cmd);
      case "COPY":
      case "MOVE":
        return copy(this, cmd);
    }
    return bad(`Unknown command ${cmd.name}`);
  }

  async #compress(cmd: Command): Promise<Result> {
    if (this.#compression) return no("[COMPRESSIONACTIVE] Compression is already on");
    if ((tokenText(cmd.args[0]) ?? "").toUpperCase() !== "DEFLATE" || cmd.args.length !== 1) {
      return bad("Only COMPRESS DEFLATE is supported");
    }
    // The OK goes out uncompressed; everything after it, both ways, is deflated.
    this.line(`${cmd.tag} OK DEFLATE active`);
    await this.#flush();
    this.#compression = new Compression(
      this.#socket,
      (chunk) => this.#onData(chunk),
      (err) => {
        this.#opts.log.debug("imap.compress-error", { reason: err.message });
        this.#socket.destroy();
      },
    );
    return { status: "OK", text: SENT };
  }

  #enable(cmd: Command): Result {
    const done: string[] = [];
    for (const t of cmd.args) {
      const cap = (tokenText(t) ?? "").toUpperCase();
      if (cap === "CONDSTORE" || cap === "UTF8=ACCEPT" || cap === "QRESYNC" || cap === "IMAP4REV2") {
        const name = cap === "IMAP4REV2" ? "IMAP4rev2" : cap;
        if (!this.enabled.has(name)) done.push(name);
        this.enabled.add(name);
        // QRESYNC implies CONDSTORE (RFC 7162 §3.2.3).
        if (cap === "QRESYNC") this.enabled.add("CONDSTORE");
      }
    }
    this.line(`* ENABLED${done.length ? ` ${done.join(" ")}` : ""}`);
    return ok("ENABLE completed");
  }

  async #startTls(cmd: Command): Promise<Result> {
    if (this.#tls() || !this.#opts.startTls) return bad("TLS is already active");
    if (cmd.args.length > 0) return bad("STARTTLS takes no arguments");
    // Stop reading before the OK goes out: the client's ClientHello must stay in the socket for the
    // TLS layer, not reach our parser (Deno's node:net delivers it to whichever listener is there).
    this.#socket.pause();
    this.line(`${cmd.tag} OK Begin TLS negotiation now`);
    await this.#flush();
    // Anything the client pipelined after STARTTLS is discarded (no command injection).
    this.#parser.reset();
    this.#detach();
    const upgraded = await upgradeToTls(this.#socket, this.#opts.secureContext());
    if (!upgraded) {
      this.#state = "logout";
      this.#socket.destroy();
      return { status: "OK", text: SENT };
    }
    this.#socket = upgraded.socket as unknown as Socket;
    this.#info = { ...this.#info, tls: upgraded.tls };
    this.#attach(this.#socket);
    // The tagged OK was sent before the handshake.
    return { status: "OK", text: SENT };
  }

  async #checkLogin(username: string, password: string): Promise<Result> {
    const ip = this.#info.client.address;
    if (this.#opts.limits.authBlocked(ip, username)) {
      this.#opts.log.info("imap.auth-throttled", { client: ip });
      return no("[UNAVAILABLE] Too many failed logins; try again later");
    }
    const res = await this.#opts.edge.auth({
      username,
      password,
      mechanism: "PLAIN",
      connection: this.#info,
    });
    if (!res.ok) return no("[UNAVAILABLE] Authentication service unavailable, try again later");
    if (!res.value.ok || !res.value.user) {
      this.#opts.log.info("imap.auth-failed", { client: ip });
      this.#opts.limits.authFailed(ip, username);
      await new Promise((r) => setTimeout(r, 300));
      return no("[AUTHENTICATIONFAILED] Invalid credentials");
    }
    if (!this.#opts.limits.open(res.value.user, ip)) {
      return no("[LIMIT] Too many connections for this user from this address");
    }
    const user = res.value.user;
    this.#socket.once("close", () => this.#opts.limits.close(user, ip));
    this.user = res.value.user;
    this.#state = "auth";
    this.#opts.log.info("imap.login", { user: this.user, client: this.#info.client.address });
    return ok(`[CAPABILITY ${this.#capabilities().join(" ")}] Logged in`);
  }

  async #login(cmd: Command): Promise<Result> {
    if (!this.#tls()) return no("[PRIVACYREQUIRED] LOGIN is disabled without TLS; use STARTTLS");
    const user = tokenText(cmd.args[0]);
    const pass = tokenText(cmd.args[1]);
    if (user === null || pass === null || cmd.args.length !== 2)
      return bad("LOGIN needs a user name and a password");
    return this.#checkLogin(user, pass);
  }

  async #authenticate(cmd: Command): Promise<Result> {
    const mech = (tokenText(cmd.args[0]) ?? "").toUpperCase();
    if (mech !== "PLAIN") return no("[CANNOT] Unsupported mechanism");
    if (!this.#tls()) return no("[PRIVACYREQUIRED] Authentication is disabled without TLS; use STARTTLS");
    let response = tokenText(cmd.args[1]);
    if (response === null) {
      this.line("+ ");
      response = await this.#waitLine();
      if (response === null) return no("Connection closed");
    }
    if (response === "*") return bad("Authentication cancelled");
    const creds = decodePlain(response);
    if (!creds) return bad("Malformed PLAIN response");
    if (creds.authz && creds.authz.toLowerCase() !== creds.authc.toLowerCase()) {
      return no("[AUTHORIZATIONFAILED] Proxy authorization is not supported");
    }
    return this.#checkLogin(creds.authc, creds.password);
  }

  async #idle(): Promise<Result> {
    this.line("+ idling");
    let unwatch = () => {};
    const sel = this.selected;
    if (sel) {
      await this.sync(true).catch(() => {});
      // The relay's watcher polls every idling mailbox in one store call; a moved modseq wakes us.
      unwatch = this.#opts.watcher.watch(this.user, sel.id, (highestModseq) => {
        if (this.selected !== sel || highestModseq <= sel.highestModseq) return;
        this.sync(true).catch((err: unknown) =>
          this.#opts.log.debug("imap.idle-sync-failed", { reason: (err as Error).message }),
        );
      });
    }
    const line = await this.#waitLine();
    unwatch();
    if (line === null) return no("Connection closed");
    if (line.toUpperCase() !== "DONE") return bad("Expected DONE");
    return ok("IDLE terminated");
  }
}

function storeFailureSafe(err: unknown, what: string): Result {
  try {
    return storeFailure(err, what);
  } catch {
    return no(`[SERVERBUG] ${what} failed`);
  }
}
