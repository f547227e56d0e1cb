/**
 * Handler stage: the user's `email(message, env, ctx)` function (the `mxedge/edge` library) runs after
 * authenticate and the rules, before anything is stored — once per envelope recipient, as Cloudflare
 * Email Workers do, all recipients at once under one time budget.
 *
 *   setReject(reason)        → 550 5.7.1 <reason>, nothing stored
 *   throws / out of time     → 451 4.3.0, nothing stored; the sender retries and the retry runs the
 *                              handler again (a message the edge committed is never stored twice)
 *   forward()/deliver()      → that recipient's copies go only where the handler put them
 *   neither                  → that recipient gets the copy the rules/default policy chose
 */
import type { Email } from "postal-mime";
import type { SmtpReply, Transaction } from "../contract.ts";
import { concatBytes } from "../encoding.ts";
import { newId } from "../ids.ts";
import type { Store } from "../store/index.ts";
import type { AuthResults } from "./authenticate.ts";
import { InboundEmail, type LocalDirectory, type MessageAuth } from "./handler-message.ts";
import { parseMessage, summarize } from "./parse.ts";

export const DEFAULT_HANDLER_TIMEOUT_MS = 25_000;

/** Per request: the Worker's env and ExecutionContext (or their embedded stand-ins). */
export interface HandlerScope {
  env: unknown;
  ctx: unknown;
}

/** How the pipeline calls the user's handler; built by the edge library from `mxedge({ email })`. */
export interface EmailHandlerHook {
  run(message: InboundEmail, scope: HandlerScope | undefined): unknown;
  /** The budget for all of a message's invocations together. */
  timeoutMs: number;
  /** Where a handler's exception is reported (default console.error). */
  onError?: (err: unknown) => void;
}

export type HandlerStageOutcome =
  | { kind: "refused"; reply: SmtpReply }
  | {
      kind: "handled";
      mailboxIds: number[];
      tags: Array<{ header: string; value: string }>;
      webhooks: string[];
      replies: Array<{ from: string; to: string; userIds: number[]; raw: Uint8Array }>;
    };

export const HANDLER_FAILED: SmtpReply = {
  code: 451,
  enhanced: "4.3.0",
  message: "Message handler failed, please retry",
};
export const HANDLER_TIMED_OUT: SmtpReply = {
  code: 451,
  enhanced: "4.3.0",
  message: "Message handler did not finish in time, please retry",
};

function storeDirectory(store: Store): LocalDirectory {
  return {
    async resolve(address) {
      const r = await store.directory.resolveRecipient(address);
      if (r.status === "local") return { local: true, userIds: r.userIds };
      if (r.status === "discard") return { local: true, userIds: [] };
      if (r.status === "not-local") return { local: false };
      throw new Error(
        r.status === "invalid"
          ? `<${address}> is not a valid address`
          : `<${address}> is not a mailbox or alias here (its domain is hosted here)`,
      );
    },
  };
}

export function messageAuth(results: AuthResults | null): MessageAuth {
  return {
    spf: results?.spf ?? null,
    dkim: results?.dkim ?? [],
    dmarc: results?.dmarc ?? null,
    arc: results?.arc ?? null,
  };
}

export async function runHandlerStage(opts: {
  hook: EmailHandlerHook;
  scope: HandlerScope | undefined;
  tx: Transaction;
  /** The message as the handler sees it: the edge's auth header fields, then the message. */
  raw: Uint8Array;
  email: Email;
  auth: AuthResults | null;
  /** What the rules and default policy chose for recipients whose handler does not place a copy. */
  fallback: { mailbox: string; discard: boolean };
  store: Store;
  now(): number;
}): Promise<HandlerStageOutcome> {
  const { hook, store } = opts;
  const directory = storeDirectory(store);
  const auth = messageAuth(opts.auth);
  const messages = opts.tx.rcptTo.map(
    (to) =>
      new InboundEmail({ tx: opts.tx, to, raw: opts.raw, email: opts.email, auth, directory, now: opts.now }),
  );

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), hook.timeoutMs);
  });
  const ran = Promise.all(messages.map((m) => Promise.resolve().then(() => hook.run(m, opts.scope)))).then(
    () => "done" as const,
    (err: unknown) => ({ err }),
  );
  const result = await Promise.race([ran, timedOut]);
  clearTimeout(timer);
  if (result === "timeout") {
    for (const m of messages) m.seal("ran out of its time budget");
    return { kind: "refused", reply: HANDLER_TIMED_OUT };
  }
  if (result !== "done") {
    for (const m of messages) m.seal("threw");
    (hook.onError ?? ((e: unknown) => console.error("email handler failed:", e)))(result.err);
    return { kind: "refused", reply: HANDLER_FAILED };
  }
  for (const m of messages) m.seal("returned");

  const rejected = messages.find((m) => m.effects.reject !== null);
  if (rejected)
    return {
      kind: "refused",
      reply: { code: 550, enhanced: "5.7.1", message: rejected.effects.reject ?? "" },
    };

  const mailboxIds = new Set<number>();
  const add = (ids: number[]) => {
    for (const id of ids) mailboxIds.add(id);
  };
  for (const m of messages) {
    if (m.effects.deliveries.length > 0) {
      for (const d of m.effects.deliveries) add(await store.directory.mailboxesFor(d.userIds, d.mailbox));
    } else if (!opts.fallback.discard) {
      // As routed: a recipient that stopped resolving since RCPT time gets no copy (like the route stage).
      const own = await store.directory.resolveRecipient(m.to);
      if (own.status === "local") add(await store.directory.mailboxesFor(own.userIds, opts.fallback.mailbox));
    }
  }
  return {
    kind: "handled",
    mailboxIds: [...mailboxIds],
    tags: messages.flatMap((m) => m.effects.tags),
    webhooks: [...new Set(messages.flatMap((m) => m.effects.webhooks))],
    replies: messages.flatMap((m) => m.effects.replies.map((r) => ({ ...r, from: m.to }))),
  };
}

/**
 * Stores the handler's local replies, each under a key derived from the original's, so a retried
 * original never stores its replies twice. Called before the original is stored.
 */
export async function storeReplies(
  store: Store,
  key: string,
  replies: Extract<HandlerStageOutcome, { kind: "handled" }>["replies"],
  now: () => number,
): Promise<void> {
  for (const [i, r] of replies.entries()) {
    const receivedAt = now();
    const email = await parseMessage(r.raw);
    await store.messages.ingest({
      id: newId(receivedAt),
      idempotencyKey: `${key}.reply${i}`,
      receivedAt,
      envelope: { mailFrom: r.from, rcptTo: [r.to] },
      connection: { origin: "email-handler-reply" },
      raw: concatBytes([r.raw]),
      summary: summarize(email),
      auth: null,
      mailboxIds: await store.directory.inboxes(r.userIds),
    });
  }
}
