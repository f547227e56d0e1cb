/**
 * One SMTP listener's protocol engine: nodemailer's smtp-server runs the state machine; every decision
 * (recipients, AUTH, storing) is the edge's. 250 after DATA is only sent once the edge says "stored".
 */

import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { SecureContext } from "node:tls";
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from "smtp-server";
import { type Config, type ListenerConfig, listenerTls, parseConfig } from "../../src/config.ts";
import { type ConnectionInfo, directConnection } from "../../src/connection.ts";
import type { SmtpReply } from "../../src/contract.ts";
import { AuthThrottle } from "../../src/limits/auth-throttle.ts";
import { WindowCounter } from "../../src/limits/window-counter.ts";
import type { RelayEdge } from "../edge-client.ts";
import { ConnectionLimiter } from "../limits/connections.ts";
import type { Logger } from "../log.ts";
import { type RelayMetrics, relayMetrics } from "../metrics.ts";
import { receiveData } from "./data.ts";
import { hideAuthUntilSecure } from "./ehlo-auth.ts";
import { batchReplies } from "./reply-batch.ts";
import { sessionConnection, sessionInfo } from "./transaction.ts";

export interface SmtpEngineOptions {
  listener: ListenerConfig;
  hostname: string;
  edge: RelayEdge;
  tls: { key: string; cert: string };
  maxMessageBytes: number;
  maxRecipients: number;
  log: Logger;
  /** Session limits (config `limits`); defaults when absent. maxMessageBytes/maxRecipients above win. */
  limits?: Config["limits"];
  metrics?: RelayMetrics;
  /** Certificates by SNI, re-read at every handshake (hot reload); `tls` above is the start-up fallback. */
  certificates?: {
    defaultContext: () => SecureContext;
    sniCallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
  };
  /** True while the edge is known to be down; with `whenDown: "421"` new connections are refused. */
  edgeDown?: () => boolean;
  whenDown?: "451" | "421";
}

export type SmtpLimits = Config["limits"];

/** An Error carrying the SMTP code smtp-server sends, and the enhanced code we want next to it. */
class SmtpReplyError extends Error {
  readonly responseCode: number;
  readonly enhanced: string;
  constructor(reply: SmtpReply) {
    super(reply.message);
    this.responseCode = reply.code;
    this.enhanced = reply.enhanced;
  }
}

interface ConnectionState {
  info: ConnectionInfo;
  /** The smtp-server connection (private API: send, _socket), for error counting and timeouts. */
  connection: SmtpConnectionHook | null;
  errors: number;
  /** Gives the connection slot back; idempotent. */
  closed: () => void;
  /** The enhanced status code to use for the next reply with this SMTP code (edge-decided replies). */
  nextEnhanced: { code: number; enhanced: string } | null;
  /** Between DATA and its reply: the message is on its way to the edge. */
  inData: boolean;
}

/** smtp-server picks enhanced codes from the basic code alone; the edge's own choice must win. */
interface SmtpConnectionHook {
  id: string;
  _socket: Socket;
  _getEnhancedStatusCode(code: number, context?: string | false): string;
  send(code: number, data?: string | string[], context?: string | false): void;
  close(): void;
  session: SMTPServerSession;
}

export interface SmtpEngine {
  /** Starts an SMTP session on a socket whose ConnectionInfo is known (after PROXY/TLS). */
  handle(socket: Socket, info: ConnectionInfo): void;
  close(): Promise<void>;
  /**
   * Graceful stop: idle sessions get 421 now; a session inside a transaction (MAIL FROM given, DATA not
   * yet answered) finishes it and then gets 421. Resolves when none is left, or at `deadline` (epoch ms),
   * when the rest are cut (their client never saw a 250, so it retries).
   */
  drain(deadline: number): Promise<void>;
}

export function createSmtpEngine(opts: SmtpEngineOptions): SmtpEngine {
  const { listener, edge, log } = opts;
  const limits: SmtpLimits = opts.limits ?? defaultLimits();
  const metrics = opts.metrics ?? relayMetrics;
  const states = new Map<string, ConnectionState>();
  const { connections, authThrottle, messageRate } = sharedLimiters(limits);
  const implicitTls = listener.role === "submissions";
  const isMx = listener.role === "mx";
  let draining = false;

  const fail = (state: ConnectionState | undefined, reply: SmtpReply): SmtpReplyError => {
    if (state) state.nextEnhanced = { code: reply.code, enhanced: reply.enhanced };
    return new SmtpReplyError(reply);
  };

  /**
   * smtp-server decides "secure" per server, not per session, so a listener whose TLS may be terminated
   * by the proxy in front (tls = "proxy") gets a second engine for the sessions the proxy says are TLS.
   */
  const makeServer = (secure: boolean, startTls: boolean): SMTPServer => {
    const server = new SMTPServer({
      name: opts.hostname,
      banner: "mxedge ESMTP",
      secure,
      key: opts.tls.key,
      cert: opts.tls.cert,
      size: opts.maxMessageBytes,
      maxRecipients: opts.maxRecipients,
      authMethods: ["PLAIN", "LOGIN"],
      authOptional: isMx,
      allowInsecureAuth: false,
      hideSTARTTLS: !startTls,
      ...(opts.certificates ? { SNICallback: opts.certificates.sniCallback } : {}),
      disabledCommands: [...(isMx ? ["AUTH"] : []), ...(startTls ? [] : ["STARTTLS"])],
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      disableReverseLookup: true,
      logger: false,
      maxCommandLength: limits.maxCommandLineBytes,
      socketTimeout: limits.commandTimeoutMs,

      onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback) {
        const state = states.get(session.id);
        const ip = state?.info.client.address ?? session.remoteAddress;
        if (authThrottle.blocked(ip)) {
          log.info("smtp.auth.throttled", { session: session.id, client: ip });
          return callback(fail(state, TOO_MANY_AUTH_FAILURES));
        }
        const method = auth.method === "LOGIN" ? "LOGIN" : "PLAIN";
        const asked = Date.now();
        void edge
          .auth({
            username: auth.username ?? "",
            password: auth.password ?? "",
            mechanism: method,
            connection: state ? sessionConnection(state.info, session) : unknownConnection(session),
          })
          .then((result) => {
            metrics.edgeLatency.observe((Date.now() - asked) / 1000, { op: "auth" });
            if (!result.ok) {
              log.error("smtp.auth.edge-failed", { session: session.id, reason: result.reason });
              return callback(
                fail(state, { code: 454, enhanced: "4.7.0", message: "Temporary authentication failure" }),
              );
            }
            if (!result.value.ok || !result.value.user) {
              const throttle = authThrottle.fail(ip);
              metrics.authFailures.inc({ listener: listener.name });
              log.info("smtp.auth.failed", {
                session: session.id,
                client: ip,
                user: auth.username,
                delayMs: throttle.delayMs,
                close: throttle.close,
              });
              const reply = throttle.close
                ? TOO_MANY_AUTH_FAILURES
                : { code: 535, enhanced: "5.7.8", message: "Authentication credentials invalid" };
              setTimeout(() => callback(fail(state, reply)), throttle.delayMs);
              return;
            }
            const response: SMTPServerAuthenticationResponse = { user: result.value.user };
            callback(null, response);
          });
      },

      onMailFrom(_address, session, callback) {
        const state = states.get(session.id);
        if (draining)
          return callback(
            fail(state, { code: 421, enhanced: "4.3.2", message: "Service shutting down, try again later" }),
          );
        if (limits.messagesPerMinutePerIp > 0 && state) {
          const ip = state.info.client.address;
          if (messageRate.count(ip) >= limits.messagesPerMinutePerIp) {
            log.info("smtp.mail.rate-limited", { session: session.id, client: ip });
            return callback(
              fail(state, {
                code: 450,
                enhanced: "4.7.1",
                message: "Too much mail from your address, slow down",
              }),
            );
          }
          messageRate.add(ip);
        }
        callback();
      },

      onRcptTo(address, session, callback) {
        const state = states.get(session.id);
        if (!state)
          return callback(fail(state, { code: 451, enhanced: "4.3.0", message: "Session state lost" }));
        const asked = Date.now();
        void edge
          .recipient({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            rcptTo: address.address,
            session: sessionInfo(state.info, session),
          })
          .then((result) => {
            metrics.edgeLatency.observe((Date.now() - asked) / 1000, { op: "recipient" });
            if (!result.ok) {
              log.error("smtp.rcpt.edge-failed", { session: session.id, reason: result.reason });
              return callback(fail(state, result.reply));
            }
            if (result.value.accept) return callback();
            callback(fail(state, result.value.reply));
          });
      },

      onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
        const state = states.get(session.id);
        if (!state) {
          stream.resume();
          stream.once("end", () =>
            callback(fail(state, { code: 451, enhanced: "4.3.0", message: "Session state lost" })),
          );
          return;
        }
        state.inData = true;
        const restoreTimeout = dataTimeout(state.connection, limits);
        void receiveData(
          {
            edge,
            log,
            metrics,
            listener: listener.name,
            bareNewlines: limits.bareNewlines,
            maxLineBytes: limits.maxDataLineBytes,
          },
          state.info,
          session,
          stream,
        ).then((outcome) => {
          state.inData = false;
          restoreTimeout();
          if (!outcome.ok) return callback(fail(state, outcome.reply));
          state.nextEnhanced = { code: 250, enhanced: outcome.reply.enhanced };
          callback(null, outcome.reply.message);
        });
      },

      onClose(session) {
        states.get(session.id)?.closed();
      },
    });
    server.on("error", (err: Error) => log.debug("smtp.connection.error", { reason: err.message }));
    return server;
  };
  const proxyTls = listenerTls(listener) === "proxy";
  const direct = makeServer(implicitTls, !implicitTls && !proxyTls);
  const atProxy = proxyTls ? makeServer(true, false) : null;

  return {
    handle(socket, info) {
      if (draining || (opts.whenDown === "421" && opts.edgeDown?.())) {
        metrics.connections.inc({
          listener: listener.name,
          result: draining ? "refused-draining" : "refused-edge-down",
        });
        log.info("smtp.connect.refused", {
          listener: listener.name,
          client: info.client.address,
          reason: draining ? "draining" : "edge-down",
        });
        socket.on("error", () => {});
        socket.end(`421 4.3.0 ${opts.hostname} Service temporarily unavailable, try again later\r\n`);
        setTimeout(() => socket.destroy(), 2000).unref();
        return;
      }
      const slot = connections.acquire(info.client.address);
      if (!slot.ok) {
        metrics.connections.inc({ listener: listener.name, result: `refused-${slot.reason}` });
        log.info("smtp.connect.refused", {
          listener: listener.name,
          client: info.client.address,
          reason: slot.reason,
        });
        const text =
          slot.reason === "total" ? "Too many connections" : "Too many connections from your address";
        socket.on("error", () => {});
        socket.end(`421 4.7.0 ${opts.hostname} ${text}, try again later\r\n`);
        setTimeout(() => socket.destroy(), 2000).unref();
        return;
      }
      metrics.connections.inc({ listener: listener.name, result: "accepted" });
      metrics.connectionOpened();
      const id = randomUUID().replaceAll("-", "").slice(0, 16);
      const state: ConnectionState = {
        info,
        connection: null,
        errors: 0,
        nextEnhanced: null,
        inData: false,
        closed: () => {},
      };
      states.set(id, state);
      let closed = false;
      const opened = Date.now();
      state.closed = () => {
        if (closed) return;
        closed = true;
        states.delete(id);
        slot.release();
        metrics.connectionClosed();
        log.info("smtp.disconnect", {
          session: id,
          listener: listener.name,
          client: info.client.address,
          proxy: info.proxy?.address ?? null,
          errors: state.errors,
          ms: Date.now() - opened,
        });
      };
      // smtp-server's onClose is the reliable signal: STARTTLS strips every listener off the raw socket.
      socket.once("close", state.closed);
      const server = info.tls?.terminatedBy === "proxy" && atProxy ? atProxy : direct;
      // STARTTLS without SNI uses the server's "*" context: keep it the store's current default.
      if (opts.certificates) server.secureContext.set("*", opts.certificates.defaultContext());
      server.connect(socket, {
        id,
        remoteAddress: info.client.address,
        remotePort: info.client.port,
        localAddress: info.server.address,
        localPort: info.server.port,
      });
      const connection = [...server.connections].find(
        (c) => (c as unknown as SmtpConnectionHook).id === id,
      ) as SmtpConnectionHook | undefined;
      if (connection) {
        state.connection = connection;
        const original = connection._getEnhancedStatusCode.bind(connection);
        connection._getEnhancedStatusCode = (code, context) => {
          const next = state.nextEnhanced;
          if (next && next.code === code && context !== false) {
            state.nextEnhanced = null;
            return original(code, context) === "" ? "" : next.enhanced;
          }
          return original(code, context);
        };
        countErrors(connection, state, limits.maxErrors, () =>
          log.info("smtp.errors.limit", { session: id, client: info.client.address, errors: state.errors }),
        );
        batchReplies(connection);
        if (!isMx) hideAuthUntilSecure(connection as SmtpConnectionHook & { secure: boolean });
      }
      log.info("smtp.connect", {
        session: id,
        listener: listener.name,
        client: info.client.address,
        proxy: info.proxy?.address ?? null,
        tls: info.tls !== null,
      });
    },
    async drain(deadline) {
      draining = true;
      const bye = (c: SmtpConnectionHook) => {
        c.send(421, `${opts.hostname} Service shutting down, try again later`);
        c.close();
      };
      for (;;) {
        const open = [...states.values()].filter((st) => st.connection);
        if (open.length === 0) return;
        for (const st of open) {
          const c = st.connection;
          if (!c) continue;
          const busy = st.inData || Boolean(c.session.envelope?.mailFrom);
          if (!busy && !(c as unknown as { _closing?: boolean })._closing) bye(c);
        }
        if (Date.now() >= deadline) {
          // Out of time: 421 (the client retries; nothing of this transaction was answered 250), a
          // moment for it to arrive, then the sockets go.
          for (const st of open) {
            log.info("smtp.drain.cut", { client: st.info.client.address, inData: st.inData });
            const c = st.connection;
            if (c && !(c as unknown as { _closing?: boolean })._closing) bye(c);
          }
          await new Promise((r) => setTimeout(r, 300));
          for (const st of open) {
            st.connection?._socket.destroy();
            st.closed();
          }
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close() {
      const servers = atProxy ? [direct, atProxy] : [direct];
      return Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(
        () => {},
      );
    },
  };
}

function unknownConnection(session: SMTPServerSession): ConnectionInfo {
  return directConnection(
    { address: session.remoteAddress, port: session.remotePort },
    { address: session.localAddress, port: session.localPort },
  );
}

const TOO_MANY_AUTH_FAILURES: SmtpReply = {
  code: 421,
  enhanced: "4.7.0",
  message: "Too many authentication failures, try again later",
};

interface Limiters {
  connections: ConnectionLimiter;
  authThrottle: AuthThrottle;
  messageRate: WindowCounter;
}
const limiters = new WeakMap<SmtpLimits, Limiters>();

/**
 * One set of counters per `limits` object: serve() hands every SMTP listener the same one, so the
 * connection caps, AUTH failures and message rate of a client IP count across all listeners (no
 * doubling the brute-force budget by alternating 587 and 465).
 */
function sharedLimiters(limits: SmtpLimits): Limiters {
  let found = limiters.get(limits);
  if (!found) {
    found = {
      connections: new ConnectionLimiter(limits),
      authThrottle: new AuthThrottle(limits),
      messageRate: new WindowCounter(60_000),
    };
    limiters.set(limits, found);
  }
  return found;
}

function defaultLimits(): SmtpLimits {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config.limits;
}

/**
 * Counts 4xx/5xx replies (Postfix smtpd_hard_error_limit); at the limit the session gets
 * `421 4.7.0 Too many errors` and is closed.
 */
function countErrors(
  connection: SmtpConnectionHook,
  state: ConnectionState,
  max: number,
  onLimit: () => void,
) {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    send(code, data, context);
    if (code < 400 || code === 421) return;
    state.errors++;
    if (state.errors >= max) {
      onLimit();
      state.nextEnhanced = { code: 421, enhanced: "4.7.0" };
      send(421, "Too many errors, closing connection");
    }
  };
}

/** Switches the socket's idle timeout to the DATA timeout; returns the function that switches it back. */
function dataTimeout(connection: SmtpConnectionHook | null, limits: SmtpLimits): () => void {
  const socket = connection?._socket;
  if (!socket || limits.dataTimeoutMs === limits.commandTimeoutMs) return () => {};
  socket.setTimeout(limits.dataTimeoutMs);
  return () => {
    if (!socket.destroyed) socket.setTimeout(limits.commandTimeoutMs);
  };
}
