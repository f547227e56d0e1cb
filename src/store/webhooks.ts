/**
 * Webhook endpoints and the durable outbox: a delivery row per (message, endpoint), written in the same
 * batch as the message, then claimed, attempted and logged by the outbox runner.
 */
import { and, asc, desc, eq, lte, sql } from "drizzle-orm";
import { newId } from "../ids.ts";
import type { Db } from "./db.ts";
import { StoreError } from "./errors.ts";
import { filterConditions } from "./message-search.ts";
import {
  type DeliveryState,
  ingests,
  type WebhookFormat,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
} from "./schema.ts";

export interface EndpointFilters {
  /** Deliver mail for these recipient domains… */
  domains?: string[];
  /** …or these recipient addresses. No filters at all: every message (unless `rulesOnly`). */
  addresses?: string[];
  /** Only when a rule's `webhook <name>` action names this endpoint. */
  rulesOnly?: boolean;
  /** Attachments up to this size go inline (base64) in the JSON payload. */
  inlineLimitBytes?: number;
  /** sync: the SMTP answer waits for this endpoint (see webhooks/sync.ts). */
  mode?: "async" | "sync";
  timeoutMs?: number;
  /** sync only: false means the message is not stored at all. */
  store?: boolean;
}

export interface EndpointInput {
  name: string;
  url: string;
  secret: string;
  format: WebhookFormat;
  filters: EndpointFilters;
}

export interface Endpoint extends EndpointInput {
  id: number;
  enabled: boolean;
}

export interface DueDelivery {
  id: string;
  ingestId: string;
  attempts: number;
  nextAttemptAt: number;
  endpoint: Endpoint;
}

export interface AttemptRecord {
  at: number;
  status: number | null;
  latencyMs: number;
  error: string | null;
  responseSnippet: string | null;
}

/** A message's outbox rows, written in the same batch as the message (see MessageStore.ingest). */
export function webhookDeliveryRows(ingestId: string, endpointIds: number[], now: number) {
  return [...new Set(endpointIds)].map((endpointId) => ({
    id: newId(now),
    endpointId,
    ingestId,
    state: "pending" as DeliveryState,
    nextAttemptAt: now,
  }));
}

function toEndpoint(row: typeof webhookEndpoints.$inferSelect): Endpoint {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    secret: row.secret,
    format: row.format,
    filters: (row.filters ?? {}) as EndpointFilters,
    enabled: row.enabled,
  };
}

export class WebhookStore {
  readonly #db: Db;
  /** Read for every message (endpointsFor): prepared once. */
  readonly #all;
  constructor(db: Db) {
    this.#db = db;
    this.#all = db.select().from(webhookEndpoints).orderBy(asc(webhookEndpoints.name)).prepare();
  }

  /** Adds an endpoint, or updates the one with that name (config files are applied at every start). */
  async upsertEndpoint(input: EndpointInput): Promise<Endpoint> {
    const values = {
      name: input.name,
      url: input.url,
      secret: input.secret,
      format: input.format,
      filters: { ...input.filters },
    };
    const row = await this.#db
      .insert(webhookEndpoints)
      .values(values)
      .onConflictDoUpdate({
        target: webhookEndpoints.name,
        set: {
          url: values.url,
          secret: values.secret,
          format: values.format,
          filters: values.filters,
          enabled: true,
        },
      })
      .returning()
      .get();
    return toEndpoint(row);
  }

  async listEndpoints(): Promise<Endpoint[]> {
    return (await this.#all.all()).map(toEndpoint);
  }

  async setEnabled(id: number, enabled: boolean): Promise<void> {
    await this.#db.update(webhookEndpoints).set({ enabled }).where(eq(webhookEndpoints.id, id));
  }

  /** The enabled endpoints a message goes to: matched by recipient, or named by a rule. */
  async endpointsFor(rcptTo: string[], named: string[]): Promise<Endpoint[]> {
    const all = (await this.listEndpoints()).filter((e) => e.enabled);
    const rcpts = rcptTo.map((r) => r.toLowerCase());
    const domains = rcpts.map((r) => r.slice(r.lastIndexOf("@") + 1));
    return all.filter((e) => {
      if (named.includes(e.name)) return true;
      const f = e.filters;
      if (f.rulesOnly) return false;
      if (!f.domains?.length && !f.addresses?.length) return true;
      return (
        (f.domains ?? []).some((d) => domains.includes(d.toLowerCase())) ||
        (f.addresses ?? []).some((a) => rcpts.includes(a.toLowerCase()))
      );
    });
  }

  async due(now: number, limit: number): Promise<DueDelivery[]> {
    const rows = await this.#db
      .select({ d: webhookDeliveries, e: webhookEndpoints })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(and(eq(webhookDeliveries.state, "pending"), lte(webhookDeliveries.nextAttemptAt, now)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(limit);
    return rows.map(({ d, e }) => ({
      id: d.id,
      ingestId: d.ingestId,
      attempts: d.attempts,
      nextAttemptAt: d.nextAttemptAt,
      endpoint: toEndpoint(e),
    }));
  }

  /**
   * Takes a due delivery for one attempt by pushing its next attempt to `leaseUntil`, only if nobody else
   * did first (compare-and-set on next_attempt_at), so two runners never send the same attempt.
   */
  async claim(d: DueDelivery, leaseUntil: number): Promise<boolean> {
    const row = await this.#db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: leaseUntil })
      .where(
        and(
          eq(webhookDeliveries.id, d.id),
          eq(webhookDeliveries.state, "pending"),
          eq(webhookDeliveries.nextAttemptAt, d.nextAttemptAt),
        ),
      )
      .returning({ id: webhookDeliveries.id })
      .get();
    return row !== undefined;
  }

  /** Records an attempt and the delivery's new state in one batch. */
  async finishAttempt(
    d: DueDelivery,
    attempt: AttemptRecord,
    next: { state: DeliveryState; nextAttemptAt: number },
  ): Promise<void> {
    await this.#db.batch([
      this.#db.insert(webhookAttempts).values({ deliveryId: d.id, ...attempt }),
      this.#db
        .update(webhookDeliveries)
        .set({
          state: next.state,
          attempts: d.attempts + 1,
          nextAttemptAt: next.nextAttemptAt,
          lastStatus: attempt.status,
          lastError: attempt.error,
        })
        .where(eq(webhookDeliveries.id, d.id)),
    ]);
  }

  /** Queues a delivery again (API/CLI redelivery), whatever state it ended in. */
  async redeliver(id: string, now: number): Promise<void> {
    const row = await this.#db
      .update(webhookDeliveries)
      .set({ state: "pending", nextAttemptAt: now })
      .where(eq(webhookDeliveries.id, id))
      .returning({ id: webhookDeliveries.id })
      .get();
    if (!row) throw new StoreError("not-found", `no delivery ${id}`);
  }

  async listDeliveries(
    opts: { state?: DeliveryState; ingestId?: string; limit?: number; domain?: string; userId?: number } = {},
  ) {
    const where = [
      opts.state ? eq(webhookDeliveries.state, opts.state) : undefined,
      opts.ingestId ? eq(webhookDeliveries.ingestId, opts.ingestId) : undefined,
      // A scoped caller sees the deliveries of the messages they may see (see message-search.ts).
      ...(opts.domain || opts.userId !== undefined
        ? [
            sql`${webhookDeliveries.ingestId} in (select ${ingests.id} from ${ingests} where ${sql.join(filterConditions({ domain: opts.domain, userId: opts.userId }), sql` and `)})`,
          ]
        : []),
    ].filter((w) => w !== undefined);
    return this.#db
      .select({
        id: webhookDeliveries.id,
        endpoint: webhookEndpoints.name,
        messageId: webhookDeliveries.ingestId,
        state: webhookDeliveries.state,
        attempts: webhookDeliveries.attempts,
        nextAttemptAt: webhookDeliveries.nextAttemptAt,
        lastStatus: webhookDeliveries.lastStatus,
        lastError: webhookDeliveries.lastError,
      })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(Math.min(opts.limit ?? 100, 500));
  }

  async attempts(deliveryId: string) {
    return this.#db
      .select()
      .from(webhookAttempts)
      .where(eq(webhookAttempts.deliveryId, deliveryId))
      .orderBy(asc(webhookAttempts.id));
  }
}
