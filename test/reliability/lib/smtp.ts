/** A small SMTP client for load and fault runs: exact bytes, one reply at a time, drops reported as code 0. */
import { createConnection, type Socket } from "node:net";

export interface Reply {
  code: number;
  text: string;
}

const DROPPED: Reply = { code: 0, text: "connection dropped" };

export class SmtpConn {
  readonly socket: Socket;
  #buf = "";
  #lines: string[] = [];
  #replies: Reply[] = [];
  #waiters: Array<(r: Reply) => void> = [];
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => {
      this.#buf += d.toString("latin1");
      for (;;) {
        const nl = this.#buf.indexOf("\r\n");
        if (nl < 0) break;
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 2);
        this.#lines.push(line);
        if (/^\d{3}(?: |$)/.test(line)) {
          const r = { code: Number(line.slice(0, 3)), text: this.#lines.join("\n") };
          this.#lines = [];
          const w = this.#waiters.shift();
          if (w) w(r);
          else this.#replies.push(r);
        }
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w(DROPPED);
    });
  }

  static open(
    port: number,
    opts: { localAddress?: string; timeoutMs?: number } = {},
  ): Promise<SmtpConn | null> {
    return new Promise((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1", localAddress: opts.localAddress });
      const timer = setTimeout(() => {
        s.destroy();
        resolve(null);
      }, opts.timeoutMs ?? 10_000);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve(new SmtpConn(s));
      });
      s.once("error", () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  reply(timeoutMs = 30_000): Promise<Reply> {
    const q = this.#replies.shift();
    if (q) return Promise.resolve(q);
    if (this.#closed) return Promise.resolve(DROPPED);
    return new Promise((resolve) => {
      const done = (r: Reply) => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve({ code: 0, text: "timeout" });
      }, timeoutMs);
      this.#waiters.push(done);
    });
  }

  async cmd(line: string, timeoutMs?: number): Promise<Reply> {
    if (this.#closed) return DROPPED;
    this.socket.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  write(data: string | Uint8Array): void {
    if (!this.#closed) this.socket.write(data);
  }

  close(): void {
    if (!this.#closed) this.socket.end("QUIT\r\n");
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

/** The message as it goes on the wire after DATA: dot-stuffed, CRLF-terminated, with the final dot. */
export function dataPayload(raw: string): string {
  return `${raw.replace(/^\./gm, "..")}.\r\n`;
}

export interface TxResult {
  /** The reply to the end of DATA, or the first failing reply; 0 = dropped or timed out. */
  code: number;
  text: string;
  /** Milliseconds from sending the final dot to the reply. */
  dataMs: number;
  /** Milliseconds for the whole transaction (MAIL to the final reply). */
  totalMs: number;
}

/** MAIL, RCPT, DATA and the message on an open, greeted connection. */
export async function transaction(
  c: SmtpConn,
  from: string,
  to: string,
  raw: string,
  timeoutMs = 30_000,
): Promise<TxResult> {
  const t0 = performance.now();
  const fail = (r: Reply): TxResult => ({
    code: r.code,
    text: r.text,
    dataMs: 0,
    totalMs: performance.now() - t0,
  });
  const mail = await c.cmd(`MAIL FROM:<${from}>`, timeoutMs);
  if (mail.code !== 250) return fail(mail);
  const rcpt = await c.cmd(`RCPT TO:<${to}>`, timeoutMs);
  if (rcpt.code !== 250) return fail(rcpt);
  const data = await c.cmd("DATA", timeoutMs);
  if (data.code !== 354) return fail(data);
  const t1 = performance.now();
  c.write(dataPayload(raw));
  const end = await c.reply(timeoutMs);
  const t2 = performance.now();
  return { code: end.code, text: end.text, dataMs: t2 - t1, totalMs: t2 - t0 };
}

/** Connect, greet, EHLO: an open session or null (with the failing reply). */
export async function session(
  port: number,
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<{ conn: SmtpConn | null; reply: Reply; greetMs: number }> {
  const t0 = performance.now();
  const c = await SmtpConn.open(port, opts);
  if (!c) return { conn: null, reply: { code: 0, text: "connect failed" }, greetMs: 0 };
  const banner = await c.reply(opts.timeoutMs ?? 30_000);
  const greetMs = performance.now() - t0;
  if (banner.code !== 220) {
    c.socket.destroy();
    return { conn: null, reply: banner, greetMs };
  }
  const ehlo = await c.cmd("EHLO client.reliability.test", opts.timeoutMs);
  if (ehlo.code !== 250) {
    c.socket.destroy();
    return { conn: null, reply: ehlo, greetMs };
  }
  return { conn: c, reply: banner, greetMs };
}

/** One message on a new connection. */
export async function sendOne(
  port: number,
  from: string,
  to: string,
  raw: string,
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<TxResult & { banner: string }> {
  const s = await session(port, opts);
  if (!s.conn) return { code: s.reply.code, text: s.reply.text, dataMs: 0, totalMs: 0, banner: "" };
  try {
    const r = await transaction(s.conn, from, to, raw, opts.timeoutMs);
    return { ...r, banner: s.reply.text };
  } finally {
    s.conn.close();
  }
}
