/**
 * One SMTP listener's protocol engine: nodemailer's smtp-server runs the state machine; every decision
 * (recipients, AUTH, storing) is the edge's. 250 after DATA is only sent once the edge says "stored".
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from "smtp-server";
import { type ListenerConfig, listenerTls } from "../../src/config.ts";
import type { ConnectionInfo } from "../../src/connection.ts";
import type { SmtpReply } from "../../src/contract.ts";
import type { EdgeClient } from "../edge-client.ts";
import type { Logger } from "../log.ts";
import { bridgeBody } from "./body-stream.ts";
import { buildTransaction, sessionConnection, sessionInfo } from "./transaction.ts";

export interface SmtpEngineOptions {
  listener: ListenerConfig;
  hostname: string;
  edge: EdgeClient;
  tls: { key: string; cert: string };
  maxMessageBytes: number;
  maxRecipients: number;
  log: Logger;
}

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
  /** The enhanced status code to use for the next reply with this SMTP code (edge-decided replies). */
  nextEnhanced: { code: number; enhanced: string } | null;
}

/** smtp-server picks enhanced codes from the basic code alone; the edge's own choice must win. */
interface EnhancedCodeHook {
  id: string;
  _getEnhancedStatusCode(code: number, context?: string | false): string;
}

export interface SmtpEngine {
  /** Starts an SMTP session on a socket whose ConnectionInfo is known (after PROXY/TLS). */
  handle(socket: Socket, info: ConnectionInfo): void;
  close(): Promise<void>;
}

export function createSmtpEngine(opts: SmtpEngineOptions): SmtpEngine {
  const { listener, edge, log } = opts;
  const states = new Map<string, ConnectionState>();
  const implicitTls = listener.role === "submissions";
  const isMx = listener.role === "mx";

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
      disabledCommands: [...(isMx ? ["AUTH"] : []), ...(startTls ? [] : ["STARTTLS"])],
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      disableReverseLookup: true,
      logger: false,

      onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback) {
        const state = states.get(session.id);
        const method = auth.method === "LOGIN" ? "LOGIN" : "PLAIN";
        void edge
          .auth({
            username: auth.username ?? "",
            password: auth.password ?? "",
            mechanism: method,
            connection: state ? sessionConnection(state.info, session) : unknownConnection(session),
          })
          .then((result) => {
            if (!result.ok) {
              log.error("smtp.auth.edge-failed", { session: session.id, reason: result.reason });
              return callback(
                fail(state, { code: 454, enhanced: "4.7.0", message: "Temporary authentication failure" }),
              );
            }
            if (!result.value.ok || !result.value.user) {
              log.info("smtp.auth.failed", {
                session: session.id,
                client: state?.info.client.address,
                user: auth.username,
              });
              return callback(
                fail(state, { code: 535, enhanced: "5.7.8", message: "Authentication credentials invalid" }),
              );
            }
            const response: SMTPServerAuthenticationResponse = { user: result.value.user };
            callback(null, response);
          });
      },

      onRcptTo(address, session, callback) {
        const state = states.get(session.id);
        if (!state)
          return callback(fail(state, { code: 451, enhanced: "4.3.0", message: "Session state lost" }));
        void edge
          .recipient({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            rcptTo: address.address,
            session: sessionInfo(state.info, session),
          })
          .then((result) => {
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
        const started = Date.now();
        if (!state) {
          stream.resume();
          stream.once("end", () =>
            callback(fail(state, { code: 451, enhanced: "4.3.0", message: "Session state lost" })),
          );
          return;
        }
        const transaction = buildTransaction(state.info, session);
        const key = `${session.id}.${session.transaction}.${randomUUID()}`;
        const bridged = bridgeBody(stream);
        void (async () => {
          const result = await edge.ingest(transaction, key, bridged.body);
          const { bytes, error } = await bridged.ended;
          const fields = {
            session: session.id,
            client: state.info.client.address,
            proxy: state.info.proxy?.address ?? null,
            tls: transaction.session.connection.tls !== null,
            from: transaction.mailFrom,
            rcpts: transaction.rcptTo.length,
            size: bytes,
            ms: Date.now() - started,
          };
          if (error) {
            log.error("smtp.data.stream-failed", { ...fields, reason: error.message });
            return callback(
              fail(state, { code: 451, enhanced: "4.3.0", message: "Transfer failed, please retry" }),
            );
          }
          if (stream.sizeExceeded) {
            log.info("smtp.data.too-large", fields);
            return callback(
              fail(state, {
                code: 552,
                enhanced: "5.3.4",
                message: "Message size exceeds fixed maximum message size",
              }),
            );
          }
          if (!result.ok) {
            log[result.reply.code >= 500 ? "info" : "error"]("smtp.data.refused", {
              ...fields,
              code: result.reply.code,
              reason: result.reason,
            });
            return callback(fail(state, result.reply));
          }
          log.info("smtp.data.stored", {
            ...fields,
            code: 250,
            id: result.value.id,
            duplicate: result.value.duplicate,
          });
          state.nextEnhanced = { code: 250, enhanced: result.value.reply.enhanced };
          callback(null, result.value.reply.message);
        })();
      },

      onClose(session) {
        states.delete(session.id);
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
      const id = randomUUID().replaceAll("-", "").slice(0, 16);
      const state: ConnectionState = { info, nextEnhanced: null };
      states.set(id, state);
      socket.once("close", () => states.delete(id));
      const server = info.tls?.terminatedBy === "proxy" && atProxy ? atProxy : direct;
      server.connect(socket, {
        id,
        remoteAddress: info.client.address,
        remotePort: info.client.port,
        localAddress: info.server.address,
        localPort: info.server.port,
      });
      const connection = [...server.connections].find((c) => (c as unknown as EnhancedCodeHook).id === id) as
        | EnhancedCodeHook
        | undefined;
      if (connection) {
        const original = connection._getEnhancedStatusCode.bind(connection);
        connection._getEnhancedStatusCode = (code, context) => {
          const next = state.nextEnhanced;
          if (next && next.code === code && context !== false) {
            state.nextEnhanced = null;
            return original(code, context) === "" ? "" : next.enhanced;
          }
          return original(code, context);
        };
      }
      log.debug("smtp.connect", {
        session: id,
        listener: listener.name,
        client: info.client.address,
        proxy: info.proxy?.address ?? null,
      });
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
  return {
    client: { address: session.remoteAddress, port: session.remotePort },
    server: { address: session.localAddress, port: session.localPort },
    proxy: null,
    proxyVersion: null,
    tls: null,
    authority: null,
    uniqueId: null,
    alpn: null,
  };
}
