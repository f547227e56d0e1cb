/**
 * Retrying SMTP senders, like an MTA's queue: a message that got a 4xx, a drop or a timeout goes back
 * into the queue and is sent again (same bytes, same Message-ID) until it gets a 250.
 */
import type { Ledger, Sent } from "./ledger.ts";
import { FROM } from "./ledger.ts";
import { USER } from "./procs.ts";
import { type SmtpConn, session, transaction } from "./smtp.ts";

export interface SenderStats {
  attempts: number;
  accepted: number;
  /** Replies by code (0 = dropped / timed out / refused connection). */
  codes: Map<number, number>;
  /** End-of-DATA latency of the 250s, ms. */
  latencies: number[];
  /** The first few failures, for the report: when, which reply, after how long. */
  failures: string[];
}

export function newStats(): SenderStats {
  return { attempts: 0, accepted: 0, codes: new Map(), latencies: [], failures: [] };
}

export interface SenderOptions {
  port: () => number;
  ledger: Ledger;
  workers: number;
  /** Keep producing new messages while this returns true; when false, drain the retry queue and stop. */
  produce: () => boolean;
  /** Give up on the run after this many ms (a stuck run must end with a failure, not hang). */
  deadlineMs: number;
  localAddress?: (worker: number) => string | undefined;
  makeSize?: () => number | undefined;
  stats?: SenderStats;
  timeoutMs?: number;
}

/** Runs until produce() is false and every message is accepted, or the deadline passes. */
export async function runSenders(opts: SenderOptions): Promise<SenderStats> {
  const stats = opts.stats ?? newStats();
  const retry: Sent[] = [];
  const deadline = Date.now() + opts.deadlineMs;
  const next = (): Sent | null =>
    retry.shift() ?? (opts.produce() ? opts.ledger.make(opts.makeSize?.()) : null);
  const worker = async (w: number) => {
    let conn: SmtpConn | null = null;
    let backoff = 50;
    for (;;) {
      if (Date.now() > deadline) return;
      const msg = next();
      if (!msg) {
        if (retry.length === 0 && !opts.produce()) break;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!conn || conn.closed) {
        const s = await session(opts.port(), {
          localAddress: opts.localAddress?.(w),
          timeoutMs: opts.timeoutMs,
        });
        conn = s.conn;
        if (!conn) {
          stats.codes.set(s.reply.code, (stats.codes.get(s.reply.code) ?? 0) + 1);
          retry.push(msg);
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(1000, backoff * 2);
          continue;
        }
      }
      msg.attempts++;
      stats.attempts++;
      const r = await transaction(conn, FROM, USER, msg.raw, opts.timeoutMs);
      stats.codes.set(r.code, (stats.codes.get(r.code) ?? 0) + 1);
      if (r.code === 250) {
        msg.accepted++;
        stats.accepted++;
        stats.latencies.push(r.dataMs);
        backoff = 50;
      } else {
        if (stats.failures.length < 5) {
          stats.failures.push(
            `${new Date().toISOString()} ${msg.id}: ${r.code} ${r.text} after ${r.totalMs.toFixed(0)} ms`,
          );
        }
        retry.push(msg);
        conn.socket.destroy();
        conn = null;
        await new Promise((r2) => setTimeout(r2, backoff));
        backoff = Math.min(1000, backoff * 2);
      }
    }
    conn?.close();
  };
  await Promise.all(Array.from({ length: opts.workers }, (_, i) => worker(i)));
  return stats;
}

export function codesText(codes: Map<number, number>): string {
  return [...codes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([c, n]) => `${c === 0 ? "drop" : c}×${n}`)
    .join(" ");
}
