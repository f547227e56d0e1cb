/** A raw-socket SMTP client for hostile tests: writes exact bytes, reads replies one at a time. */
import { createConnection, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface Reply {
  code: number;
  text: string;
}

export class RawSmtp {
  socket: Socket;
  #buffer = "";
  #replies: Reply[] = [];
  #waiters: Array<(r: Reply | null) => void> = [];
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.#attach(socket);
  }

  static async open(port: number, host = "127.0.0.1"): Promise<RawSmtp> {
    const socket = createConnection(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawSmtp(socket);
  }

  /** Implicit TLS (port 465): the handshake first, then the greeting inside it. */
  static async openTls(port: number, host = "127.0.0.1"): Promise<RawSmtp> {
    const socket = tlsConnect({ port, host, rejectUnauthorized: false, servername: "mx.e2e.test" });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    return new RawSmtp(socket);
  }

  #attach(socket: Socket): void {
    socket.on("data", (d: Buffer) => {
      this.#buffer += d.toString("latin1");
      for (;;) {
        const nl = this.#buffer.indexOf("\r\n");
        if (nl < 0) break;
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 2);
        this.#lines.push(line);
        if (/^\d{3}(?: |$)/.test(line)) {
          const reply = { code: Number(line.slice(0, 3)), text: this.#lines.join("\n") };
          this.#lines = [];
          const w = this.#waiters.shift();
          if (w) w(reply);
          else this.#replies.push(reply);
        }
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w(null);
    });
  }
  #lines: string[] = [];

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received but not yet part of a complete reply line. */
  get pending(): string {
    return this.#buffer;
  }

  /** The next reply, or null when the connection closed first (or `timeoutMs` passed). */
  reply(timeoutMs = 15_000): Promise<Reply | null> {
    const queued = this.#replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve(null);
      }, timeoutMs);
      const done = (r: Reply | null) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#waiters.push(done);
    });
  }

  /** Replies already received and not yet read. */
  get queued(): number {
    return this.#replies.length;
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  async command(line: string, timeoutMs?: number): Promise<Reply | null> {
    this.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  /** Upgrades the connection after a 220 to STARTTLS. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("close");
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false, servername: "mx.e2e.test" });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", reject);
    });
    this.socket = secure;
    this.#attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Greeting, EHLO, STARTTLS, EHLO again (submission); throws unless all succeed. */
export async function openTlsSession(port: number): Promise<RawSmtp> {
  const c = await openSession(port);
  const ready = await c.command("STARTTLS");
  if (ready?.code !== 220) throw new Error(`STARTTLS: ${ready?.text}`);
  await c.startTls();
  const ehlo = await c.command("EHLO client.e2e.test");
  if (ehlo?.code !== 250) throw new Error(`EHLO: ${ehlo?.text}`);
  return c;
}

/** Greeting + EHLO; throws unless both succeed. */
export async function openSession(port: number, helo = "client.e2e.test"): Promise<RawSmtp> {
  const c = await RawSmtp.open(port);
  const greeting = await c.reply();
  if (greeting?.code !== 220) throw new Error(`greeting: ${greeting?.text}`);
  const ehlo = await c.command(`EHLO ${helo}`);
  if (ehlo?.code !== 250) throw new Error(`EHLO: ${ehlo?.text}`);
  return c;
}
