/**
 * The relay's Prometheus metrics (text exposition format 0.0.4). One registry per process by default
 * (`relayMetrics`); `renderMetrics()` returns the text for a `/metrics` route, with content type
 * `METRICS_CONTENT_TYPE`.
 */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

const labelText = (labels: Labels): string => {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${esc(v)}"`).join(",")}}`;
};

class Counter {
  readonly name: string;
  readonly help: string;
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.#values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.#values.set(key, entry);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels))?.value ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.#values.values())
      lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines;
  }
}

class Gauge {
  readonly name: string;
  readonly help: string;
  readonly #read: () => number;
  constructor(name: string, help: string, read: () => number) {
    this.name = name;
    this.help = help;
    this.#read = read;
  }
  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.#read()}`];
  }
}

class Histogram {
  readonly name: string;
  readonly help: string;
  readonly #buckets: number[];
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, buckets: number[]) {
    this.name = name;
    this.help = help;
    this.#buckets = buckets;
  }
  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    const s = this.#series.get(key) ?? {
      labels,
      counts: this.#buckets.map(() => 0),
      sum: 0,
      count: 0,
    };
    this.#buckets.forEach((b, i) => {
      if (value <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count++;
    this.#series.set(key, s);
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.#series.values()) {
      this.#buckets.forEach((b, i) => {
        lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i] ?? 0}`);
      });
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

export class RelayMetrics {
  readonly connections = new Counter(
    "mxedge_smtp_connections_total",
    "SMTP connections by listener and outcome (accepted, refused-total, refused-per-ip).",
  );
  readonly transactions = new Counter(
    "mxedge_smtp_transactions_total",
    "SMTP transactions that reached the end of DATA, by listener and reply code.",
  );
  readonly bytes = new Counter("mxedge_smtp_received_bytes_total", "Message bytes received in DATA.");
  readonly authFailures = new Counter("mxedge_smtp_auth_failures_total", "Failed SMTP AUTH attempts.");
  readonly edgeLatency = new Histogram(
    "mxedge_edge_request_duration_seconds",
    "Relay→edge request latency by operation (ingest is end of DATA to the edge's answer).",
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  );
  #open = 0;
  readonly openConnections = new Gauge(
    "mxedge_smtp_open_connections",
    "Open SMTP connections.",
    () => this.#open,
  );

  connectionOpened(): void {
    this.#open++;
  }
  connectionClosed(): void {
    this.#open = Math.max(0, this.#open - 1);
  }

  render(): string {
    const parts = [
      this.connections,
      this.openConnections,
      this.transactions,
      this.bytes,
      this.authFailures,
      this.edgeLatency,
    ];
    return `${parts.flatMap((p) => p.render()).join("\n")}\n`;
  }
}

/** The process-wide registry the SMTP engines use unless given another. */
export const relayMetrics = new RelayMetrics();

export function renderMetrics(metrics: RelayMetrics = relayMetrics): string {
  return metrics.render();
}
