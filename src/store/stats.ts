/**
 * Figures for the overview: mail received, refused and forwarded per hour, webhook success rate and
 * latency, and queue depth. Received mail is counted from `ingests`; refusals (never stored) and
 * forwards are counted into `traffic_hourly` as they happen.
 */
import { and, eq, gte, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "./db.ts";
import { copiedToUser, recipientInDomain } from "./message-search.ts";
import { ingests, trafficHourly, webhookAttempts, webhookDeliveries } from "./schema.ts";

export const HOUR_MS = 3_600_000;

export interface StatsScope {
  domain?: string;
  userId?: number;
}

export interface HourBucket {
  /** Start of the hour, ms since the epoch. */
  hour: number;
  received: number;
  refused: number;
  forwarded: number;
}

export interface WebhookFigures {
  attempts: number;
  succeeded: number;
  /** succeeded / attempts, or null with no attempts. */
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface QueueFigures {
  webhooksPending: number;
  webhooksFailed: number;
}

/** At most this many attempts are read for the latency percentiles (the newest). */
const LATENCY_SAMPLE = 20_000;

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
}

/** The recipient domains of an envelope, lower-cased and deduplicated. */
export function recipientDomains(rcptTo: string[]): string[] {
  const out = new Set<string>();
  for (const r of rcptTo) {
    const at = r.lastIndexOf("@");
    if (at > 0 && at < r.length - 1) out.add(r.slice(at + 1).toLowerCase());
  }
  return [...out];
}

export class StatsStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Counts one refused message (or recipient, at RCPT) for each of `domains`, in the hour of `at`. */
  async count(kind: "refused" | "forwarded", domains: string[], at: number): Promise<void> {
    if (domains.length === 0) return;
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    const column = kind === "refused" ? trafficHourly.refused : trafficHourly.forwarded;
    await this.#db
      .insert(trafficHourly)
      .values(domains.map((domain) => ({ hour, domain, [kind]: 1 })))
      .onConflictDoUpdate({
        target: [trafficHourly.hour, trafficHourly.domain],
        set: { [kind]: sql`${column} + 1` },
      });
  }

  /** One bucket per hour for the last `hours` hours up to `now` (oldest first, empty hours as zeros). */
  async traffic(hours: number, now: number, scope: StatsScope): Promise<HourBucket[]> {
    const first = (Math.floor(now / HOUR_MS) - hours + 1) * HOUR_MS;
    const where: SQL[] = [sql`${ingests.receivedAt} >= ${first}`];
    if (scope.domain) where.push(recipientInDomain(scope.domain));
    if (scope.userId !== undefined) where.push(copiedToUser(scope.userId));
    const hourMs = sql.raw(String(HOUR_MS));
    const bucket = sql<number>`(${ingests.receivedAt} / ${hourMs}) * ${hourMs}`;
    const received = await this.#db
      .select({ hour: bucket, n: sql<number>`count(*)` })
      .from(ingests)
      .where(sql.join(where, sql` and `))
      .groupBy(bucket);
    // Refusals and forwards are per domain: a mailbox user sees only what reached them.
    const counted =
      scope.userId !== undefined
        ? []
        : await this.#db
            .select({
              hour: trafficHourly.hour,
              refused: sql<number>`sum(${trafficHourly.refused})`,
              forwarded: sql<number>`sum(${trafficHourly.forwarded})`,
            })
            .from(trafficHourly)
            .where(
              and(
                gte(trafficHourly.hour, first),
                scope.domain ? eq(trafficHourly.domain, scope.domain) : undefined,
              ),
            )
            .groupBy(trafficHourly.hour);
    const buckets: HourBucket[] = [];
    for (let i = 0; i < hours; i++)
      buckets.push({ hour: first + i * HOUR_MS, received: 0, refused: 0, forwarded: 0 });
    const at = (hour: number) => buckets[Math.round((Number(hour) - first) / HOUR_MS)];
    for (const r of received) {
      const b = at(r.hour);
      if (b) b.received = Number(r.n);
    }
    for (const r of counted) {
      const b = at(r.hour);
      if (b) {
        b.refused = Number(r.refused);
        b.forwarded = Number(r.forwarded);
      }
    }
    return buckets;
  }

  /** Webhook attempts since `since`: how many succeeded (2xx) and how long they took. */
  async webhooks(since: number, scope: StatsScope): Promise<WebhookFigures> {
    const rows = await this.#db
      .select({ status: webhookAttempts.status, latency: webhookAttempts.latencyMs })
      .from(webhookAttempts)
      .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
      .innerJoin(ingests, eq(ingests.id, webhookDeliveries.ingestId))
      .where(
        and(
          gte(webhookAttempts.at, since),
          scope.domain ? recipientInDomain(scope.domain) : undefined,
          scope.userId !== undefined ? copiedToUser(scope.userId) : undefined,
        ),
      )
      .orderBy(sql`${webhookAttempts.id} desc`)
      .limit(LATENCY_SAMPLE);
    const succeeded = rows.filter((r) => r.status !== null && r.status >= 200 && r.status < 300).length;
    const latencies = rows.map((r) => r.latency).sort((a, b) => a - b);
    return {
      attempts: rows.length,
      succeeded,
      successRate: rows.length > 0 ? succeeded / rows.length : null,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
    };
  }

  /** Deliveries waiting for an attempt, and those that gave up (failed or dead). */
  async queue(scope: StatsScope): Promise<QueueFigures> {
    const rows = await this.#db
      .select({ state: webhookDeliveries.state, n: sql<number>`count(*)` })
      .from(webhookDeliveries)
      .innerJoin(ingests, eq(ingests.id, webhookDeliveries.ingestId))
      .where(
        and(
          inArray(webhookDeliveries.state, ["pending", "failed", "dead"]),
          scope.domain ? recipientInDomain(scope.domain) : undefined,
          scope.userId !== undefined ? copiedToUser(scope.userId) : undefined,
        ),
      )
      .groupBy(webhookDeliveries.state);
    const n = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    return { webhooksPending: n("pending"), webhooksFailed: n("failed") + n("dead") };
  }
}
