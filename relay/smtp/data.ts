/**
 * One DATA phase: filter line endings, stream the message to the edge, and decide the SMTP reply.
 *
 *   smtp-server stream → LineEndingFilter (reject | normalize bare CR/LF) → bridgeBody → edge.ingest
 *
 * The reply is 250 only when the edge said "stored" AND the SMTP side delivered the whole message
 * cleanly. Every failure on the way (client gone, edge unreachable, timeout, 5xx, dropped stream) is
 * 451 4.3.0; a bare CR/LF in "reject" mode is 554 5.5.2 whatever the edge said (the errored body means
 * the edge cannot have stored it).
 */
import { randomUUID } from "node:crypto";
import type { SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import type { ConnectionInfo } from "../../src/connection.ts";
import type { SmtpReply } from "../../src/contract.ts";
import { BARE_NEWLINE, type BareNewlinePolicy, LineEndingFilter } from "../../src/pipeline/line-endings.ts";
import type { RelayEdge } from "../edge-client.ts";
import type { Logger } from "../log.ts";
import type { RelayMetrics } from "../metrics.ts";
import { bridgeBody, type ChunkFilter } from "./body-stream.ts";
import { LineLengthLimit, lineTooLong } from "./line-length.ts";
import { buildTransaction } from "./transaction.ts";

export interface DataContext {
  edge: RelayEdge;
  log: Logger;
  metrics: RelayMetrics;
  listener: string;
  bareNewlines: BareNewlinePolicy;
  /** Longest DATA line in octets, CRLF included; 0: no limit. */
  maxLineBytes: number;
}

export type DataOutcome = { ok: true; reply: SmtpReply } | { ok: false; reply: SmtpReply };

const TRANSFER_FAILED: SmtpReply = { code: 451, enhanced: "4.3.0", message: "Transfer failed, please retry" };
const TOO_LARGE: SmtpReply = {
  code: 552,
  enhanced: "5.3.4",
  message: "Message size exceeds fixed maximum message size",
};

export async function receiveData(
  ctx: DataContext,
  info: ConnectionInfo,
  session: SMTPServerSession,
  stream: SMTPServerDataStream,
): Promise<DataOutcome> {
  const { edge, log, metrics } = ctx;
  const started = Date.now();
  const transaction = buildTransaction(info, session);
  // Per transaction; the edge replaces it with a content key when it can (src/pipeline/idempotency.ts).
  const key = `${session.id}.${session.transaction}.${randomUUID()}`;
  const filter = new LineEndingFilter(ctx.bareNewlines);
  const lines = ctx.maxLineBytes > 0 ? new LineLengthLimit(ctx.maxLineBytes) : null;
  // Past the size limit smtp-server answers 552 whatever happens next, so the edge must not get a
  // complete body either (a remote edge may allow more): erroring the stream makes sure it stores nothing.
  const guard: ChunkFilter = {
    push: (chunk) => (stream.sizeExceeded || (lines && !lines.check(chunk)) ? null : filter.push(chunk)),
    finish: () => (stream.sizeExceeded ? null : filter.finish()),
  };
  const bridged = bridgeBody(stream, guard);
  let endOfData = 0;
  void bridged.ended.then(() => {
    endOfData = Date.now();
  });
  const result = await edge.ingest(transaction, key, bridged.body);
  const answered = Date.now();
  const end = await bridged.ended;
  const fields = {
    session: session.id,
    listener: ctx.listener,
    client: info.client.address,
    proxy: info.proxy?.address ?? null,
    tls: transaction.session.connection.tls !== null,
    from: transaction.mailFrom,
    rcpts: transaction.rcptTo.length,
    size: end.bytes,
    ms: Date.now() - started,
    /** End of DATA (last byte from the client) to the edge's answer. */
    edgeMs: endOfData > 0 ? Math.max(0, answered - endOfData) : null,
  };
  metrics.bytes.inc({ listener: ctx.listener }, end.bytes);
  if (fields.edgeMs !== null) metrics.edgeLatency.observe(fields.edgeMs / 1000, { op: "ingest" });
  const done = (outcome: DataOutcome, event: string, level: "info" | "error", extra = {}) => {
    metrics.transactions.inc({ listener: ctx.listener, code: String(outcome.reply.code) });
    log[level](event, { ...fields, code: outcome.reply.code, ...extra });
    return outcome;
  };

  if (end.error)
    return done({ ok: false, reply: TRANSFER_FAILED }, "smtp.data.stream-failed", "error", {
      reason: end.error.message,
    });
  if (stream.sizeExceeded) return done({ ok: false, reply: TOO_LARGE }, "smtp.data.too-large", "info");
  if (lines?.exceeded)
    return done({ ok: false, reply: lineTooLong(ctx.maxLineBytes) }, "smtp.data.line-too-long", "info");
  if (end.refused) return done({ ok: false, reply: BARE_NEWLINE }, "smtp.data.bare-newline", "info");
  if (!result.ok) {
    return done(
      { ok: false, reply: result.reply },
      "smtp.data.refused",
      result.reply.code >= 500 ? "info" : "error",
      {
        reason: result.reason,
      },
    );
  }
  return done({ ok: true, reply: result.value.reply }, "smtp.data.stored", "info", {
    id: result.value.id,
    duplicate: result.value.duplicate,
    normalized: filter.sawBareNewline,
  });
}
