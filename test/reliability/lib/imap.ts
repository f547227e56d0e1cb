/** A minimal IMAP client: tagged commands, untagged lines collected, IDLE with a wait for a pattern. */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export class ImapConn {
  readonly socket: Socket;
  greeting = "";
  #buf = "";
  #lines: string[] = [];
  #waiters: Array<{ test: (l: string) => boolean; resolve: (l: string | null) => void }> = [];
  #tag = 0;
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.#buf += d.toString("latin1");
      for (;;) {
        const nl = this.#buf.indexOf("\r\n");
        if (nl < 0) break;
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 2);
        const w = this.#waiters.findIndex((x) => x.test(line));
        if (w >= 0) {
          const [x] = this.#waiters.splice(w, 1);
          x?.resolve(line);
        } else if (this.#lines.length < 10_000) this.#lines.push(line);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w.resolve(null);
    });
  }

  static open(
    port: number,
    opts: { tls?: boolean; localAddress?: string; timeoutMs?: number } = {},
  ): Promise<ImapConn | null> {
    return new Promise((resolve) => {
      const raw = netConnect({ port, host: "127.0.0.1", localAddress: opts.localAddress });
      const s: Socket = opts.tls ? tlsConnect({ socket: raw, rejectUnauthorized: false }) : raw;
      if (opts.tls) raw.on("error", () => s.destroy());
      const conn = new ImapConn(s);
      const timer = setTimeout(() => {
        s.destroy();
        resolve(null);
      }, opts.timeoutMs ?? 30_000);
      conn
        .waitFor((l) => l.startsWith("* "), opts.timeoutMs ?? 30_000)
        .then((g) => {
          clearTimeout(timer);
          if (g === null || !g.startsWith("* OK")) {
            s.destroy();
            resolve(null);
          } else {
            conn.greeting = g;
            resolve(conn);
          }
        });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Untagged lines received so far that no waiter took (and clears them). */
  drain(): string[] {
    return this.#lines.splice(0);
  }

  /** The next line (already received or future) matching `test`, or null on close/timeout. */
  waitFor(test: (l: string) => boolean, timeoutMs = 30_000): Promise<string | null> {
    const i = this.#lines.findIndex(test);
    if (i >= 0) return Promise.resolve(this.#lines.splice(i, 1)[0] ?? null);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const entry = {
        test,
        resolve: (l: string | null) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== entry);
        resolve(null);
      }, timeoutMs);
      this.#waiters.push(entry);
    });
  }

  /** Sends a tagged command; resolves with the tagged completion line (null on close/timeout). */
  async command(text: string, timeoutMs = 30_000): Promise<string | null> {
    const tag = `r${++this.#tag}`;
    this.socket.write(`${tag} ${text}\r\n`);
    return this.waitFor((l) => l.startsWith(`${tag} `), timeoutMs);
  }

  async idle(): Promise<boolean> {
    const tag = `r${++this.#tag}`;
    this.#idleTag = tag;
    this.socket.write(`${tag} IDLE\r\n`);
    return (await this.waitFor((l) => l.startsWith("+ "), 10_000)) !== null;
  }
  #idleTag = "";

  async done(): Promise<string | null> {
    const tag = this.#idleTag;
    this.socket.write("DONE\r\n");
    return this.waitFor((l) => l.startsWith(`${tag} `), 10_000);
  }

  close(): void {
    if (!this.#closed) this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
  }
}
