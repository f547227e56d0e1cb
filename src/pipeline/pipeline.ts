/**
 * The edge pipeline for one SMTP transaction, read top to bottom:
 *
 *   dedupe → route (recipients → mailboxes) → parse → trace header → store
 *
 * Later stages (authenticate with mailauth, rules, webhooks) slot in between parse and store.
 * Every stage either passes the message on or ends it with an SMTP reply; nothing is dropped silently.
 */
import type { SmtpReply, Transaction } from "../contract.ts";
import { concatBytes } from "../encoding.ts";
import { newId } from "../ids.ts";
import type { Store } from "../store/index.ts";
import { parseMessage, summarize } from "./parse.ts";
import { receivedHeader } from "./received.ts";
import { routeRecipients } from "./route.ts";

export interface PipelineDeps {
  store: Store;
  /** The name this server uses in Received headers and greetings. */
  hostname: string;
  now(): number;
}

export interface PipelineInput {
  transaction: Transaction;
  idempotencyKey: string;
  raw: Uint8Array;
}

export type PipelineOutcome =
  | { kind: "stored"; id: string; duplicate: boolean; reply: SmtpReply }
  | { kind: "refused"; reply: SmtpReply };

const stored = (id: string, duplicate: boolean): PipelineOutcome => ({
  kind: "stored",
  id,
  duplicate,
  reply: { code: 250, enhanced: "2.0.0", message: `OK: queued as ${id}` },
});

export async function runPipeline(input: PipelineInput, deps: PipelineDeps): Promise<PipelineOutcome> {
  const tx = input.transaction;
  const { store } = deps;

  // 1. dedupe: a retried transaction is answered from the store, never written twice.
  const existing = await store.messages.findByKey(input.idempotencyKey);
  if (existing) return stored(existing, true);

  // 2. route: the edge re-resolves every recipient; the relay's RCPT-time answer is not trusted.
  const route = await routeRecipients(store, tx.rcptTo);
  if (route.kind === "refused") return route;

  // 3. parse
  const email = await parseMessage(input.raw);
  const summary = summarize(email);

  // 4. trace header
  const receivedAt = deps.now();
  const id = newId(receivedAt);
  const trace = receivedHeader({
    session: tx.session,
    hostname: deps.hostname,
    id,
    rcptTo: tx.rcptTo,
    date: new Date(receivedAt),
  });
  const raw = concatBytes([new TextEncoder().encode(trace), input.raw]);

  // 5. store: one atomic batch; 250 is only sent after this resolves.
  const result = await store.messages.ingest({
    id,
    idempotencyKey: input.idempotencyKey,
    receivedAt,
    envelope: { mailFrom: tx.mailFrom, rcptTo: tx.rcptTo },
    connection: { ...tx.session },
    raw,
    summary,
    auth: null,
    mailboxIds: route.mailboxIds,
  });
  return stored(result.id, result.duplicate);
}
