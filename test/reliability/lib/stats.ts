/** Latency percentiles and the run's figures. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

export function ms(v: number): string {
  return `${v.toFixed(v < 10 ? 1 : 0)} ms`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export interface ScenarioResult {
  name: string;
  ok: boolean;
  seconds: number;
  /** Invariant violations and errors; empty when ok. */
  failures: string[];
  /** Rows for the summary table: metric → value. */
  figures: Record<string, string | number>;
  /** Numbers that add up across scenarios into the table's totals. */
  totals?: Totals;
}

export interface Totals {
  accepted?: number;
  stored?: number;
  duplicated?: number;
  kills?: number;
  faults?: number;
  peakConnections?: number;
  fuzzExecutions?: number;
  /** p99 latencies, ms, by what was measured. */
  p99?: Record<string, number>;
}

export class Checker {
  readonly failures: string[] = [];
  check(ok: boolean, what: string): boolean {
    if (!ok) this.failures.push(what);
    return ok;
  }
}
