/**
 * The `message` a user's `email(message, env, ctx)` handler receives: Cloudflare's ForwardableEmailMessage
 * shape (from, to, headers, raw, rawSize, setReject, forward, reply), plus what mxedge knows and Email
 * Workers do not: the authentication results, the real client connection, the parsed message, and
 * delivery into named mailboxes, webhooks and tags.
 *
 * Methods only record what the handler asks for; the handler stage applies it after the handler returns,
 * so a handler that throws or runs out of time leaves nothing behind.
 */
import type { Email } from "postal-mime";
import type { Transaction } from "../contract.ts";
import type { ArcResult, DkimResult, DmarcResult, SpfResult } from "./authenticate.ts";

/** What the SMTP client sees as the end-of-DATA answer when a handler calls setReject(). */
export const MAX_REJECT_REASON = 400;

/** The structured SPF/DKIM/DMARC/ARC results: the same object the webhook payload's `auth` carries. */
export interface MessageAuth {
  spf: SpfResult | null;
  dkim: DkimResult[];
  dmarc: DmarcResult | null;
  arc: ArcResult | null;
}

/** The SMTP client as the relay saw it: the real IP (from PROXY protocol when a proxy is in front). */
export interface MessageConnection {
  clientIp: string;
  clientPort: number;
  helo: string;
  /** The SMTP AUTH login, or null for unauthenticated (inbound MX) mail. */
  authUser: string | null;
  /** Reverse DNS name of the client when the relay looked it up, else null. */
  rdns: string | null;
  /** The load balancer's address when the connection came through PROXY protocol, else null. */
  proxy: { address: string; port: number; version: 1 | 2 | null } | null;
  tls: {
    version: string | null;
    cipher: string | null;
    sni: string | null;
    terminatedBy: "relay" | "proxy";
  } | null;
}

/** Cloudflare's EmailSendResult. */
export interface SendResult {
  messageId: string;
}

/** An outgoing message for reply(): Cloudflare's `new EmailMessage(from, to, raw)` shape. */
export interface RawEmailMessage {
  readonly from: string;
  readonly to: string;
  readonly raw?: ReadableStream<Uint8Array> | string | Uint8Array;
}

/** Cloudflare's reply builder (text/html; attachments are not supported yet). */
export interface ReplyBuilder {
  from: string | { name: string; email: string };
  subject: string;
  replyTo?: string | { name: string; email: string };
  headers?: Record<string, string>;
  text?: string;
  html?: string;
  attachments?: unknown[];
}

const BRAND = Symbol.for("mxedge.OutboundDeliveryUnavailableError");

/**
 * forward() or reply() to an address this server does not host. Delivering there needs outbound SMTP
 * delivery, which mxedge does not have yet; catch this error to fall back, or let it propagate (451).
 */
export class OutboundDeliveryUnavailableError extends Error {
  readonly code = "outbound-delivery-unavailable";
  readonly recipient: string;
  readonly [BRAND] = true;
  constructor(operation: "forward" | "reply", recipient: string) {
    super(
      `${operation}() to <${recipient}>: that address is not hosted here, and delivering to other servers ` +
        "needs outbound SMTP delivery, which mxedge does not have yet (only local recipients work)",
    );
    this.name = "OutboundDeliveryUnavailableError";
    this.recipient = recipient;
  }
  /** instanceof works across copies of the library (a handler loaded from another package path). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}

/** Everything a handler invocation asked for. */
export interface HandlerEffects {
  reject: string | null;
  /** Copies the handler placed: users (resolved) and the mailbox name in each user's tree. */
  deliveries: Array<{ userIds: number[]; mailbox: string }>;
  tags: Array<{ header: string; value: string }>;
  webhooks: string[];
  replies: Array<{ to: string; userIds: number[]; raw: Uint8Array }>;
}

/** What the message needs from the store: who is local. */
export interface LocalDirectory {
  resolve(address: string): Promise<{ local: true; userIds: number[] } | { local: false }>;
}

export interface MessageInit {
  tx: Transaction;
  /** This invocation's envelope recipient. */
  to: string;
  /** The message as the handler sees it: the edge's Authentication-Results, then the message. */
  raw: Uint8Array;
  email: Email;
  auth: MessageAuth;
  directory: LocalDirectory;
  now(): number;
}

const HEADER_NAME = /^[!-9;-~]{1,76}$/;
const enc = new TextEncoder();

function checkHeader(name: string, value: string): void {
  if (!HEADER_NAME.test(name)) throw new TypeError(`not a valid header field name: ${JSON.stringify(name)}`);
  if (/[\r\n\0]/.test(value) || value.length > 998) {
    throw new TypeError(`header ${name}: the value must be one line of at most 998 characters`);
  }
}

/** Headers lower-cases names; stored fields read better as X-Forwarded-By. */
function canonicalCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function mailbox(a: string | { name: string; email: string }): string {
  return typeof a === "string" ? a : a.name ? `"${a.name.replace(/["\\\r\n]/g, "")}" <${a.email}>` : a.email;
}

function crlf(text: string): string {
  return text.replace(/\r?\n|\r/g, "\r\n");
}

async function readAll(raw: RawEmailMessage["raw"]): Promise<Uint8Array> {
  if (raw === undefined) throw new TypeError("reply(): the message has no raw content");
  if (typeof raw === "string") return enc.encode(crlf(raw));
  if (raw instanceof Uint8Array) return enc.encode(crlf(new TextDecoder("latin1").decode(raw)));
  const bytes = new Uint8Array(await new Response(raw).arrayBuffer());
  return enc.encode(crlf(new TextDecoder("latin1").decode(bytes)));
}

/**
 * The message an email() handler receives. Assignable to Cloudflare's ForwardableEmailMessage, so
 * handlers typed against @cloudflare/workers-types keep compiling.
 */
export interface MxedgeEmailMessage {
  /** Envelope sender (MAIL FROM); empty for bounces. */
  readonly from: string;
  /** Envelope recipient this invocation is for (the handler runs once per recipient). */
  readonly to: string;
  readonly headers: Headers;
  readonly raw: ReadableStream<Uint8Array>;
  readonly rawSize: number;
  readonly canBeForwarded: boolean;
  setReject(reason: string): void;
  forward(rcptTo: string, headers?: Headers): Promise<SendResult>;
  reply(message: RawEmailMessage): Promise<SendResult>;
  reply(builder: ReplyBuilder): Promise<SendResult>;
  readonly auth: MessageAuth;
  readonly connection: MessageConnection;
  parsed(): Promise<Email>;
  deliver(mailbox: string): Promise<void>;
  webhook(name: string): void;
  tag(header: string, value: string): void;
}

export class InboundEmail implements MxedgeEmailMessage {
  readonly from: string;
  readonly to: string;
  readonly headers: Headers;
  readonly rawSize: number;
  /** Always true: forward() works for local recipients (remote ones throw OutboundDeliveryUnavailableError). */
  readonly canBeForwarded = true;
  readonly auth: MessageAuth;
  readonly connection: MessageConnection;
  readonly #init: MessageInit;
  #raw: ReadableStream<Uint8Array> | null = null;
  #sealed: string | null = null;
  readonly effects: HandlerEffects = { reject: null, deliveries: [], tags: [], webhooks: [], replies: [] };

  constructor(init: MessageInit) {
    this.#init = init;
    this.from = init.tx.mailFrom;
    this.to = init.to;
    this.rawSize = init.raw.length;
    this.auth = init.auth;
    const headers = new Headers();
    for (const h of init.email.headers) {
      try {
        headers.append(h.key, h.value);
      } catch {
        // A field Headers cannot hold (invalid name or bytes) is left out; `raw` still has it.
      }
    }
    this.headers = headers;
    const s = init.tx.session;
    const c = s.connection;
    this.connection = {
      clientIp: c.client.address,
      clientPort: c.client.port,
      helo: s.helo,
      authUser: s.user,
      rdns: s.rdns,
      proxy: c.proxy ? { ...c.proxy, version: c.proxyVersion } : null,
      tls: c.tls
        ? { version: c.tls.version, cipher: c.tls.cipher, sni: c.tls.sni, terminatedBy: c.tls.terminatedBy }
        : null,
    };
  }

  /** The whole message, as a stream (each read of the property starts the same stream; read it once). */
  get raw(): ReadableStream<Uint8Array> {
    if (!this.#raw) {
      const bytes = this.#init.raw;
      this.#raw = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice());
          controller.close();
        },
      });
    }
    return this.#raw;
  }

  /** The message parsed by postal-mime (the pipeline parses it once; this returns that result). */
  parsed(): Promise<Email> {
    return Promise.resolve(this.#init.email);
  }

  /** Ends the handler's ability to change the outcome (after it returns, throws or times out). */
  seal(why: string): void {
    this.#sealed = why;
  }

  #check(op: string): void {
    if (this.#sealed) throw new Error(`message.${op}() after the handler ${this.#sealed}: it has no effect`);
  }

  /** Refuses the message: the SMTP client gets `550 5.7.1 <reason>` and nothing is stored. */
  setReject(reason: string): void {
    this.#check("setReject");
    const line = String(reason)
      .replace(/[\r\n\t\0]+/g, " ")
      .trim();
    this.effects.reject = (line || "Message rejected").slice(0, MAX_REJECT_REASON);
  }

  /**
   * Delivers a copy to another address. A local address (a user or alias here) gets the message in its
   * INBOX; any other address throws OutboundDeliveryUnavailableError. `headers` are added to the stored
   * message (every copy shares one stored message).
   */
  async forward(rcptTo: string, headers?: Headers): Promise<SendResult> {
    this.#check("forward");
    const extra: Array<{ header: string; value: string }> = [];
    headers?.forEach((value, name) => {
      checkHeader(name, value);
      extra.push({ header: canonicalCase(name), value });
    });
    const target = await this.#init.directory.resolve(rcptTo);
    if (!target.local) throw new OutboundDeliveryUnavailableError("forward", rcptTo);
    this.#check("forward");
    this.effects.deliveries.push({ userIds: target.userIds, mailbox: "INBOX" });
    this.effects.tags.push(...extra);
    return { messageId: this.#init.email.messageId ?? "" };
  }

  /**
   * Stores a new message for the original sender. Works when the sender is local (mail between users
   * here); otherwise throws OutboundDeliveryUnavailableError.
   */
  async reply(message: RawEmailMessage | ReplyBuilder): Promise<SendResult> {
    this.#check("reply");
    const to = "to" in message && typeof message.to === "string" ? message.to : this.from;
    const target = await this.#init.directory.resolve(to);
    if (!target.local) throw new OutboundDeliveryUnavailableError("reply", to);
    const built = "subject" in message ? this.#compose(message as ReplyBuilder) : null;
    const raw = built ? built.raw : await readAll((message as RawEmailMessage).raw);
    this.#check("reply");
    this.effects.replies.push({ to, userIds: target.userIds, raw });
    return { messageId: built?.messageId ?? "" };
  }

  #compose(b: ReplyBuilder): { raw: Uint8Array; messageId: string } {
    if (b.attachments?.length) throw new TypeError("reply(): attachments are not supported yet");
    const original = this.#init.email.messageId ?? null;
    const messageId = `<${crypto.randomUUID()}@mxedge.reply>`;
    const fields: Array<[string, string]> = [
      ["From", mailbox(b.from)],
      ["To", this.from],
      ["Subject", b.subject],
      ["Date", new Date(this.#init.now()).toUTCString().replace("GMT", "+0000")],
      ["Message-ID", messageId],
      ["MIME-Version", "1.0"],
    ];
    if (b.replyTo) fields.push(["Reply-To", mailbox(b.replyTo)]);
    if (original) {
      fields.push(["In-Reply-To", original]);
      const refs = this.headers.get("references");
      fields.push(["References", refs ? `${refs} ${original}` : original]);
    }
    for (const [k, v] of Object.entries(b.headers ?? {})) {
      checkHeader(k, v);
      fields.push([k, v]);
    }
    for (const [k, v] of fields) checkHeader(k, v);
    const part = (type: string, body: string) =>
      `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${crlf(body)}\r\n`;
    let body: string;
    if (b.text !== undefined && b.html !== undefined) {
      const boundary = `mxedge-${crypto.randomUUID()}`;
      fields.push(["Content-Type", `multipart/alternative; boundary="${boundary}"`]);
      body = `\r\n--${boundary}\r\n${part("text/plain", b.text)}--${boundary}\r\n${part("text/html", b.html)}--${boundary}--\r\n`;
    } else {
      const [type, text] = b.html !== undefined ? ["text/html", b.html] : ["text/plain", b.text ?? ""];
      body = part(type, text);
    }
    const head = fields.map(([k, v]) => `${k}: ${v}\r\n`).join("");
    return { raw: enc.encode(head + body), messageId };
  }

  /**
   * Stores this recipient's copy in the named mailbox (a folder, "Junk", …) instead of the default;
   * a user without a mailbox of that name gets it in INBOX.
   */
  async deliver(mailboxName: string): Promise<void> {
    this.#check("deliver");
    if (!mailboxName || mailboxName.length > 200 || /[\r\n\0]/.test(mailboxName)) {
      throw new TypeError(`not a valid mailbox name: ${JSON.stringify(mailboxName)}`);
    }
    const target = await this.#init.directory.resolve(this.to);
    this.#check("deliver");
    this.effects.deliveries.push({ userIds: target.local ? target.userIds : [], mailbox: mailboxName });
  }

  /** Sends the message to the webhook endpoint of this name (configured with `mxedge webhook` / the API). */
  webhook(name: string): void {
    this.#check("webhook");
    if (!this.effects.webhooks.includes(name)) this.effects.webhooks.push(name);
  }

  /** Adds a header field to the stored message. */
  tag(header: string, value: string): void {
    this.#check("tag");
    checkHeader(header, value);
    this.effects.tags.push({ header, value });
  }
}
