/** Webhooks: endpoints (add, test), and every delivery with its attempts, with redeliver. */
import type { AttemptRecord, EndpointFilters } from "../../../src/store/webhooks.ts";
import { need, seg } from "../api.ts";
import {
  actionButton,
  BASE,
  field,
  type PageContext,
  postForm,
  select,
  status,
  submit,
  type Tone,
  table,
  time,
} from "../components.ts";
import { type Child, h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

export interface Delivery {
  id: string;
  endpoint: string;
  messageId: string;
  state: "pending" | "delivered" | "failed" | "dead";
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
}

interface EndpointView {
  name: string;
  url: string;
  format: string;
  enabled: boolean;
  filters: EndpointFilters;
}

const STATE_TONE: Record<Delivery["state"], Tone> = {
  pending: "warn",
  delivered: "ok",
  failed: "bad",
  dead: "bad",
};

function attemptRows(attempts: Array<AttemptRecord & { id: number }>): Child[][] {
  return attempts.map((a, i) => [
    String(i + 1),
    time(a.at),
    a.status === null ? status("NO ANSWER", "bad") : status(String(a.status), a.status < 300 ? "ok" : "bad"),
    `${a.latencyMs} ms`,
    h("span", { class: "wrap" }, a.error ?? a.responseSnippet ?? ""),
  ]);
}

/** Deliveries with their attempts (each in a disclosure) and a redeliver button. */
export async function deliveriesTable(pc: PageContext, deliveries: Delivery[]): Promise<Node> {
  const attempts = await Promise.all(
    deliveries.map((d) =>
      pc.api.get<{ attempts: Array<AttemptRecord & { id: number }> }>(`/deliveries/${seg(d.id)}/attempts`),
    ),
  );
  return table(
    "Webhook deliveries",
    ["endpoint", "message", "state", "attempts", ""],
    deliveries.map((d, i) => {
      const list = attempts[i]?.ok ? (attempts[i]?.body.attempts ?? []) : [];
      return [
        d.endpoint,
        h("a", { href: `${BASE}/messages/${seg(d.messageId)}` }, h("code", null, d.messageId)),
        h(
          "span",
          null,
          status(d.state.toUpperCase(), STATE_TONE[d.state]),
          d.state === "pending" ? h("span", { class: "muted" }, " next ", time(d.nextAttemptAt)) : null,
        ),
        list.length === 0
          ? "none yet"
          : h(
              "details",
              null,
              h("summary", null, `${list.length} attempt${list.length === 1 ? "" : "s"}`),
              table(
                `Attempts of delivery ${d.id}`,
                ["#", "at", "status", "took", "answer"],
                attemptRows(list),
              ),
            ),
        actionButton(pc, `${BASE}/deliveries/${seg(d.id)}/redeliver`, "Redeliver", {
          label: `Redeliver ${d.id} to ${d.endpoint}`,
          hidden: { back: `${pc.path}#${pc.path.includes("/messages/") ? "webhooks" : "deliveries"}` },
        }),
      ];
    }),
    "No deliveries.",
  );
}

export async function webhooksPage(
  pc: PageContext,
  created?: { name: string; secret: string },
): Promise<Node> {
  const state = ["pending", "delivered", "failed", "dead"].includes(pc.query.state ?? "")
    ? pc.query.state
    : "";
  const [endpoints, deliveries] = await Promise.all([
    pc.api.get<{ webhooks: EndpointView[] }>("/webhooks"),
    pc.api.get<{ deliveries: Delivery[] }>(`/deliveries${state ? `?state=${state}` : ""}`),
  ]);
  const admin = pc.principal.kind === "admin";
  return layout(pc, "Webhooks", [
    created
      ? h(
          "div",
          { class: "notice", role: "status" },
          `Endpoint ${created.name} saved. Its signing secret, shown only now: `,
          h("code", { class: "wrap" }, created.secret),
        )
      : null,
    h("h2", { id: "endpoints" }, "Endpoints"),
    table(
      "Webhook endpoints",
      ["name", "URL", "format", "mail for", "state", ""],
      need(endpoints).webhooks.map((e) => [
        e.name,
        h("code", { class: "wrap" }, e.url),
        `${e.format}${e.filters.mode === "sync" ? " (sync)" : ""}`,
        e.filters.rulesOnly
          ? "rules only"
          : [...(e.filters.domains ?? []), ...(e.filters.addresses ?? [])].join(", ") || "every message",
        e.enabled ? status("ENABLED", "ok") : status("DISABLED", "none"),
        admin
          ? actionButton(pc, `${BASE}/webhooks/${seg(e.name)}/test`, "Send test", {
              label: `Send test to ${e.name}`,
            })
          : "",
      ]),
      "No webhook endpoints.",
    ),
    admin
      ? h(
          "details",
          null,
          h("summary", null, "Add or replace an endpoint"),
          postForm(
            pc,
            `${BASE}/webhooks`,
            { class: "stack", label: "Add a webhook endpoint" },
            field("Name", "name", { required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}" }),
            field("URL", "url", {
              type: "url",
              required: true,
              placeholder: "https://hooks.example.com/mail",
            }),
            field("Secret (whsec_…; empty: a new one is made)", "secret", { autocomplete: "off" }),
            select("Format", "format", ["json", "raw"], "json"),
            field("Only mail for these domains (comma-separated)", "domains"),
            submit("Save endpoint"),
          ),
        )
      : null,
    h("h2", { id: "deliveries" }, "Deliveries"),
    h(
      "form",
      { method: "get", action: `${BASE}/webhooks#deliveries`, class: "row" },
      select("State", "state", ["", "pending", "delivered", "failed", "dead"], state),
      h("button", { type: "submit", class: "quiet" }, "Show"),
    ),
    await deliveriesTable(pc, need(deliveries).deliveries.slice(0, 100)),
  ]);
}
