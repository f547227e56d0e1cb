/**
 * The webhook outbox runner: claims due deliveries, posts them (signed, no redirects, timeouts, capped
 * response), logs every attempt and schedules the next one. Driven by `scheduled()` on Workers and by a
 * timer when embedded; a delivery acknowledged with a 2xx is never sent again.
 */

import { parseMessage } from "../pipeline/parse.ts";
import type { Store } from "../store/index.ts";
import type { DueDelivery } from "../store/webhooks.ts";
import { type PostDeps, postSigned } from "./post.ts";
import { type LinkSigner, type WebhookMessage, webhookRequest } from "./request.ts";
import { classifyResponse, DEFAULT_RETRY, nextDelayMs, type RetryPolicy } from "./schedule.ts";

/** How to post (PostDeps: fetch, clock, allowlist, resolver, limits) and sign links (LinkSigner), plus: */
export interface OutboxDeps extends PostDeps, LinkSigner {
  store: Store;
  retry?: RetryPolicy;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export interface OutboxRun {
  attempted: number;
  delivered: number;
  retrying: number;
  failed: number;
}

async function requestFor(
  d: DueDelivery,
  deps: OutboxDeps,
): Promise<{ body: Uint8Array; headers: Record<string, string> } | null> {
  const detail = await deps.store.messages.get(d.ingestId);
  const raw = await deps.store.messages.raw(d.ingestId);
  if (!detail || !raw) return null;
  const session = detail.connection as {
    helo?: string;
    connection?: { client?: { address?: string }; tls?: unknown };
  };
  const auth = (detail.auth ?? {}) as WebhookMessage["auth"] & { rules?: WebhookMessage["rules"] };
  return webhookRequest(
    d.endpoint,
    {
      id: detail.id,
      receivedAt: detail.receivedAt,
      raw,
      email: await parseMessage(raw),
      envelope: detail.envelope,
      connection: {
        clientIp: session.connection?.client?.address ?? "",
        helo: session.helo ?? "",
        tls: session.connection?.tls !== null && session.connection?.tls !== undefined,
      },
      auth,
      rules: auth?.rules ?? [],
    },
    deps,
  );
}

/** One attempt of one claimed delivery. */
async function attempt(d: DueDelivery, deps: OutboxDeps): Promise<"delivered" | "retrying" | "failed"> {
  const started = deps.now();
  let status: number | null = null;
  let error: string | null = null;
  let snippet: string | null = null;
  let blocked = false;
  const request = await requestFor(d, deps);
  if (!request) error = "message no longer stored";
  else {
    const posted = await postSigned(d.endpoint, d.id, request.body, request.headers, deps);
    ({ status, error, snippet, blocked } = posted);
  }
  const outcome =
    status === null ? (request === null && !blocked ? "disable" : "retry") : classifyResponse(status);
  const record = {
    at: started,
    status,
    latencyMs: Math.max(0, deps.now() - started),
    error,
    responseSnippet: snippet,
  };
  if (outcome === "delivered") {
    await deps.store.webhooks.finishAttempt(d, record, { state: "delivered", nextAttemptAt: started });
    return "delivered";
  }
  if (outcome === "disable") {
    if (status === 410) await deps.store.webhooks.setEnabled(d.endpoint.id, false);
    await deps.store.webhooks.finishAttempt(d, record, { state: "failed", nextAttemptAt: started });
    return "failed";
  }
  const delay = nextDelayMs(d.attempts + 1, deps.retry ?? DEFAULT_RETRY);
  if (delay === null) {
    await deps.store.webhooks.finishAttempt(d, record, { state: "dead", nextAttemptAt: started });
    return "failed";
  }
  await deps.store.webhooks.finishAttempt(d, record, { state: "pending", nextAttemptAt: started + delay });
  return "retrying";
}

export async function deliverDue(deps: OutboxDeps, limit = 25): Promise<OutboxRun> {
  const run: OutboxRun = { attempted: 0, delivered: 0, retrying: 0, failed: 0 };
  const now = deps.now();
  const due = await deps.store.webhooks.due(now, limit);
  for (const d of due) {
    // The lease outlasts one attempt; a runner that dies mid-attempt leaves the delivery due again after it.
    if (!(await deps.store.webhooks.claim(d, now + (deps.timeoutMs ?? 15_000) + 60_000))) continue;
    run.attempted++;
    const result = await attempt(d, deps);
    run[result === "delivered" ? "delivered" : result === "retrying" ? "retrying" : "failed"]++;
    deps.log?.("webhook.attempt", { delivery: d.id, endpoint: d.endpoint.name, message: d.ingestId, result });
  }
  return run;
}
