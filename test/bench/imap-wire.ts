/**
 * A minimal raw IMAP client for benchmarks and fixture recording: sends one tagged command at a time
 * and returns every response line up to the tagged one, with literals kept inline. No parsing beyond
 * framing, so it costs the same against every server it measures.
 */
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface WireResponse {
  /** Untagged lines with their literals inline (each literal's bytes follow its "{n}\r\n"). */
  lines: Buffer[];
  /** The tagged status line, e.g. "a3 OK FETCH completed". */
  tagged: string;
  bytes: number;
}

export class WireClient {
  #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  #closed = false;
  #n = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (d: Buffer) => {
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
      this.#wake?.();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on("error", () => {});
  }

  static async open(port: number, opts: { tls?: boolean; host?: string } = {}): Promise<WireClient> {
    const host = opts.host ?? "127.0.0.1";
    const socket = opts.tls
      ? tlsConnect({ port, host, rejectUnauthorized: false })
      : netConnect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    const c = new WireClient(socket);
    await c.#readLine(); // greeting
    return c;
  }

  async #more(): Promise<void> {
    if (this.#closed) throw new Error("connection closed");
    await new Promise<void>((r) => {
      this.#wake = r;
    });
    this.#wake = null;
  }

  /** One response line with its literals (without the final CRLF). */
  async #readLine(): Promise<Buffer> {
    let scan = 0;
    for (;;) {
      const nl = this.#buf.indexOf(10, scan);
      if (nl < 0) {
        scan = this.#buf.length;
        await this.#more();
        continue;
      }
      const m = /\{(\d+)\}\r$/.exec(this.#buf.subarray(Math.max(scan, nl - 24), nl).toString("latin1"));
      if (m) {
        const need = nl + 1 + Number(m[1]);
        while (this.#buf.length < need) await this.#more();
        scan = need;
        continue;
      }
      const line = this.#buf.subarray(0, nl - 1);
      this.#buf = this.#buf.subarray(nl + 1);
      return line;
    }
  }

  async command(text: string): Promise<WireResponse> {
    const tag = `w${++this.#n}`;
    this.#socket.write(`${tag} ${text}\r\n`);
    const lines: Buffer[] = [];
    let bytes = 0;
    for (;;) {
      const line = await this.#readLine();
      bytes += line.length + 2;
      if (line[0] === 0x2a) {
        lines.push(line);
        continue;
      }
      if (line[0] === 0x2b) continue;
      const s = line.toString("latin1");
      if (s.startsWith(`${tag} `)) return { lines, tagged: s, bytes };
    }
  }

  /** Sends a command and expects OK. */
  async ok(text: string): Promise<WireResponse> {
    const r = await this.command(text);
    if (!/^\S+ OK/.test(r.tagged)) throw new Error(`${text.slice(0, 60)} → ${r.tagged}`);
    return r;
  }

  /** Starts IDLE and waits for the continuation. */
  async idle(): Promise<void> {
    this.#socket.write(`w${++this.#n} IDLE\r\n`);
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl >= 0) {
        const line = this.#buf.subarray(0, nl + 1).toString("latin1");
        this.#buf = this.#buf.subarray(nl + 1);
        if (line.startsWith("+")) return;
        continue;
      }
      await this.#more();
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}
