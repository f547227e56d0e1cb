/** The /metrics reference: every series the relay exposes, read from the exposition text the code renders. */
import { RelayMetrics, renderMetrics } from "../../../relay/metrics.ts";
import { renderProxyMetrics } from "../../../relay/proxy/prometheus.ts";
import { cell, code, GENERATED_NOTE, table } from "./markdown.ts";

export interface MetricRow {
  name: string;
  type: string;
  help: string;
  /** Label names with the values the exposition shows before any traffic (empty: they appear with traffic). */
  labels: Map<string, Set<string>>;
}

/** What `GET /metrics` serves (relay/serve.ts), rendered from fresh registries. */
export function exposition(): string {
  return renderMetrics(new RelayMetrics()) + renderProxyMetrics();
}

export function parseExposition(text: string): MetricRow[] {
  const rows = new Map<string, MetricRow>();
  const row = (name: string) => {
    let r = rows.get(name);
    if (!r) {
      r = { name, type: "", help: "", labels: new Map() };
      rows.set(name, r);
    }
    return r;
  };
  for (const line of text.split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const r = row(meta[2] as string);
      if (meta[1] === "HELP") r.help = meta[3] as string;
      else r.type = meta[3] as string;
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*?)(?:_bucket|_sum|_count)?\{(.*)\} /.exec(line);
    if (!sample) continue;
    const r = rows.get(sample[1] as string) ?? [...rows.values()].find((x) => line.startsWith(x.name));
    if (!r) continue;
    for (const m of (sample[2] as string).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (m[1] === "le") continue;
      const values = r.labels.get(m[1] as string) ?? new Set<string>();
      values.add(m[2] as string);
      r.labels.set(m[1] as string, values);
    }
  }
  return [...rows.values()];
}

export function metricsMarkdown(): string {
  return `${GENERATED_NOTE("relay/metrics.ts and relay/proxy/prometheus.ts (the text /metrics serves)")}\n\n${table(
    ["metric", "type", "labels", "what"],
    parseExposition(exposition()).map((r) => [
      cell(code(r.name)),
      r.type,
      [...r.labels].map(([k, v]) => `${code(k)}: ${[...v].join(", ")}`).join("; "),
      cell(r.help),
    ]),
  )}\n`;
}
