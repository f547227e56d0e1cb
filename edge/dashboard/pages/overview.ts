/** Overview: mail received, refused and forwarded per hour (chart + table), webhooks, queue depth. */
import { raw } from "hono/html";
import type { HourBucket, QueueFigures, WebhookFigures } from "../../../src/store/stats.ts";
import { need } from "../api.ts";
import { BASE, type PageContext, table, time } from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

interface Stats {
  hours: number;
  traffic: HourBucket[];
  webhooks: WebhookFigures;
  queue: QueueFigures & { outbound?: number };
}

const sum = (t: HourBucket[], k: "received" | "refused" | "forwarded") => t.reduce((n, b) => n + b[k], 0);
const ms = (v: number | null) => (v === null ? "—" : `${v} ms`);

function card(label: string, value: string, hint?: string): Node {
  return h(
    "li",
    null,
    h("span", { class: "n" }, value),
    label,
    hint ? h("div", { class: "muted" }, hint) : null,
  );
}

/** JSON for the chart, safe inside a <script> element. */
function chartData(t: HourBucket[]): string {
  return JSON.stringify({
    x: t.map((b) => b.hour / 1000),
    yLabel: "messages",
    series: [
      { label: "received", values: t.map((b) => b.received) },
      { label: "refused", values: t.map((b) => b.refused) },
      { label: "forwarded", values: t.map((b) => b.forwarded) },
    ],
  }).replace(/</g, "\\u003c");
}

export async function overviewPage(pc: PageContext): Promise<Node> {
  const hours = Math.min(Math.max(Number(pc.query.hours) || 24, 1), 24 * 14);
  const s = need(await pc.api.get<Stats>(`/stats?hours=${hours}`));
  const w = s.webhooks;
  const rate = w.successRate === null ? "—" : `${(w.successRate * 100).toFixed(1)} %`;
  return layout(
    pc,
    "Overview",
    [
      h(
        "ul",
        { class: "cards", "aria-label": `Last ${hours} hours` },
        card("received", String(sum(s.traffic, "received")), `last ${hours} h`),
        card("refused", String(sum(s.traffic, "refused")), "at RCPT or after DATA"),
        card("forwarded", String(sum(s.traffic, "forwarded"))),
        card("webhook success", rate, `${w.succeeded} of ${w.attempts} attempts`),
        card("webhook latency", ms(w.p50Ms), `p95 ${ms(w.p95Ms)}`),
        card("webhook queue", String(s.queue.webhooksPending), `${s.queue.webhooksFailed} gave up`),
        s.queue.outbound === undefined ? null : card("outbound queue", String(s.queue.outbound)),
      ),
      h("h2", { id: "per-hour" }, "Mail per hour"),
      h(
        "form",
        { method: "get", action: BASE, class: "row" },
        h(
          "label",
          null,
          "Period",
          h(
            "select",
            { name: "hours" },
            ...[24, 48, 168, 336].map((n) =>
              h("option", { value: String(n), selected: n === hours ? true : undefined }, `${n} hours`),
            ),
          ),
        ),
        h("button", { type: "submit", class: "quiet" }, "Show"),
      ),
      h("div", {
        class: "plot",
        "data-plot": "",
        "data-source": "traffic-data",
        role: "img",
        "aria-label": `Chart of mail received, refused and forwarded per hour; the same numbers are in the table below.`,
      }),
      h("script", { type: "application/json", id: "traffic-data" }, raw(chartData(s.traffic))),
      h(
        "details",
        null,
        h("summary", null, "Per-hour numbers"),
        table(
          "Mail per hour",
          ["hour", "received", "refused", "forwarded"],
          [...s.traffic]
            .reverse()
            .map((b) => [time(b.hour), String(b.received), String(b.refused), String(b.forwarded)]),
        ),
      ),
    ],
    { plot: true },
  );
}
