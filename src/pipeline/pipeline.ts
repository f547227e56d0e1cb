/**
 * The edge pipeline for one SMTP transaction, read top to bottom:
 *
 *   line endings → dedupe → route (recipients → mailboxes) → parse → trace header → store
 *
 * Later stages (authenticate with mailauth, rules, webhooks) slot in between parse and store.
 * Every stage either passes the message on or ends it with an SMTP reply; nothing is dropped silently.
 */
import type { SmtpReply, Transaction } from "../contract.ts";
import { concatBytes } from "../encoding.ts";
import { newId } from "../ids.ts";
import { structureJson } from "../imap/structure.ts";
import type { Store } from "../store/index.ts";
import type { PostDeps } from "../webhooks/post.ts";
import { type LinkSigner, type WebhookMessage, webhookRequest } from "../webhooks/request.ts";
import { callSyncWebhooks } from "../webhooks/sync.ts";
import { type AuthPolicy, runAuthStage } from "./auth-stage.ts";
import { idempotencyKeyFor } from "./idempotency.ts";
import { BARE_NEWLINE, hasBareNewline } from "./line-endings.ts";
import { fromAddresses, parseMessage, summarize } from "./parse.ts";
import { decide, type PolicyConfig } from "./policy-stage.ts";
import { receivedHeader } from "./received.ts";
import { routeRecipients } from "./route.ts";

export interface PipelineDeps {
  store: Store;
  /** The name this server uses in Received headers and greetings. */
  hostname: string;
  now(): number;
  /** SPF/DKIM/DMARC/ARC with this resolver and policy; absent: messages are not authenticated. */
  auth?: AuthPolicy;
  /** Rules and DNSBLs from the config; absent: only the default policy applies. */
  policy?: PolicyConfig;
  /** How synchronous webhooks are called, and how their download links are signed. */
  webhooks?: PostDeps & LinkSigner;
}

export interface PipelineInput {
  transaction: Transaction;
  /** The relay's per-transaction key; replaced by a content key when the message has a Message-ID. */
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

  // 0. line endings: a bare CR or LF is never stored (the relay rejects or normalizes it first; this
  //    guards every other way in), so a stored message can never be re-split into two downstream.
  if (hasBareNewline(input.raw)) return { kind: "refused", reply: BARE_NEWLINE };

  // 1. dedupe: a retried transaction is answered from the store, never written twice. The key is derived
  //    from the content where that is safe (see idempotency.ts), so a new SMTP transaction that retries
  //    a message the edge already committed finds it.
  const { key } = await idempotencyKeyFor(tx, input.raw, input.idempotencyKey);
  const existing = await store.messages.findByKey(key);
  if (existing) return stored(existing, true);

  // 2. route: the edge re-resolves every recipient; the relay's RCPT-time answer is not trusted.
  const route = await routeRecipients(store, tx.rcptTo);
  if (route.kind === "refused") return route;

  // 3. parse
  const email = await parseMessage(input.raw);
  const summary = summarize(email);

  // 4. authenticate: SPF, DKIM, DMARC, ARC (mailauth); forged Authentication-Results are removed.
  const auth = await runAuthStage(input.raw, tx, deps.hostname, deps.auth);
  if (auth.kind === "refused") return { kind: "refused", reply: auth.reply };

  // 5. policy: DNSBLs and rules, then the default policy (DMARC reject/quarantine).
  const disposition = await decide({
    tx,
    auth,
    headers: email.headers.map((h) => ({ name: h.key, value: h.value })),
    headerFrom: fromAddresses(email),
    size: input.raw.length,
    policy: deps.policy,
    resolver: deps.auth?.resolver,
  });
  if (disposition.kind === "refuse") return { kind: "refused", reply: disposition.reply };
  const mailboxIds = disposition.discard
    ? []
    : disposition.mailbox === "INBOX"
      ? route.mailboxIds
      : await store.directory.mailboxesFor(route.userIds, disposition.mailbox);
  const endpoints = await store.webhooks.endpointsFor(tx.rcptTo, disposition.webhooks);

  // 6. trace header
  const receivedAt = deps.now();
  const id = newId(receivedAt);
  const trace = receivedHeader({
    session: tx.session,
    hostname: deps.hostname,
    id,
    rcptTo: tx.rcptTo,
    date: new Date(receivedAt),
  });
  const tags = disposition.tags.map((t) => `${t.header}: ${t.value}\r\n`).join("");
  const raw = concatBytes([new TextEncoder().encode(trace + auth.headers + tags), auth.raw]);

  // 7. synchronous webhooks: the SMTP answer waits for them, and a refusal stores nothing.
  const sync = endpoints.filter((e) => e.filters.mode === "sync");
  const storeIt = !sync.some((e) => e.filters.store === false);
  if (sync.length > 0 && deps.webhooks) {
    const message: WebhookMessage = {
      id,
      receivedAt,
      raw,
      email,
      envelope: { mailFrom: tx.mailFrom, rcptTo: tx.rcptTo },
      connection: {
        clientIp: tx.session.connection.client.address,
        helo: tx.session.helo,
        tls: tx.session.connection.tls !== null,
      },
      auth: auth.results,
      rules: disposition.trace,
    };
    const links = storeIt ? deps.webhooks : null;
    const verdict = await callSyncWebhooks(sync, id, (e) => webhookRequest(e, message, links), deps.webhooks);
    if (verdict.kind === "refuse") return { kind: "refused", reply: verdict.reply };
    if (!storeIt) {
      return {
        kind: "stored",
        id,
        duplicate: false,
        reply: { code: 250, enhanced: "2.0.0", message: `OK: delivered as ${id}` },
      };
    }
  }

  // 8. store: one atomic batch; 250 is only sent after this resolves.
  const result = await store.messages.ingest({
    id,
    idempotencyKey: key,
    receivedAt,
    envelope: { mailFrom: tx.mailFrom, rcptTo: tx.rcptTo },
    connection: { ...tx.session },
    raw,
    summary,
    structure: structureJson(raw),
    // The checks, the DNSBL answers and the rules that matched: the message's policy trace.
    auth: {
      ...auth.results,
      dnsbl: disposition.dnsbl,
      rules: disposition.trace,
      webhooks: disposition.webhooks,
    },
    mailboxIds,
    webhookEndpointIds: endpoints.filter((e) => e.filters.mode !== "sync").map((e) => e.id),
  });
  return stored(result.id, result.duplicate);
}
