/**
 * One message: envelope, the real client and PROXY/TLS details, SPF/DKIM/DMARC/ARC with reasons,
 * DNSBL hits, the spam verdict when there is one, the rules that matched, where it was stored, its
 * webhook deliveries, and the raw source (shown and downloadable).
 */
import type { ConnectionInfo } from "../../../src/connection.ts";
import type { AuthResults } from "../../../src/pipeline/authenticate.ts";
import type { DnsblResult } from "../../../src/rules/dnsbl.ts";
import type { RuleTrace } from "../../../src/rules/engine.ts";
import type { MessageDetail } from "../../../src/store/messages.ts";
import { need, seg } from "../api.ts";
import { bytes, facts, type PageContext, status, table, time, verdict } from "../components.ts";
import { type Child, h, type Node } from "../h.ts";
import { layout } from "../layout.ts";
import { type Delivery, deliveriesTable } from "./webhooks.ts";

/** At most this much of the source is shown in the page; the download has it all. */
const SHOWN_SOURCE_BYTES = 256 * 1024;

type Recorded = Partial<AuthResults> & {
  dnsbl?: DnsblResult | null;
  rules?: RuleTrace[];
  webhooks?: string[];
  /** The spam check's verdict, when that stage ran (issue 22): shown as recorded. */
  spam?: Record<string, unknown> | null;
};

interface Session {
  helo?: string;
  user?: string | null;
  protocol?: string;
  rdns?: string | null;
  connection?: ConnectionInfo;
}

const endpoint = (e: { address: string; port: number } | null | undefined) =>
  e ? `${e.address}:${e.port}` : "—";

function connectionFacts(s: Session): Node {
  const c = s.connection;
  const tls = c?.tls;
  return facts([
    ["client", h("code", null, endpoint(c?.client))],
    ["reverse DNS", s.rdns ?? "—"],
    ["HELO", s.helo ?? "—"],
    ["protocol", s.protocol ?? "—"],
    ["authenticated as", s.user ?? "—"],
    ["server", h("code", null, endpoint(c?.server))],
    [
      "PROXY",
      c?.proxyVersion
        ? `v${c.proxyVersion} from ${endpoint(c.proxy)}${c.authority ? `, authority ${c.authority}` : ""}${c.uniqueId ? `, id ${c.uniqueId}` : ""}`
        : "direct connection",
    ],
    [
      "TLS",
      tls
        ? `${tls.version ?? "TLS"} ${tls.cipher ?? ""} (terminated by ${tls.terminatedBy}${tls.sni ? `, SNI ${tls.sni}` : ""})`
        : status("NONE", "warn"),
    ],
  ]);
}

function authSection(a: Recorded | null): Child[] {
  if (!a?.spf)
    return [h("p", { class: "muted" }, "This message was not authenticated (no DNS resolver configured).")];
  const dmarc = a.dmarc;
  return [
    table(
      "Authentication results",
      ["check", "result", "details"],
      [
        ["SPF", verdict("spf", a.spf.result), `${a.spf.domain ?? ""} ${a.spf.info ?? ""}`.trim() || "—"],
        ...(a.dkim ?? []).map((d): Child[] => [
          "DKIM",
          verdict("dkim", d.result),
          [
            d.domain && `d=${d.domain}`,
            d.selector && `s=${d.selector}`,
            d.algorithm,
            d.aligned && `aligned with ${d.aligned}`,
            d.info,
          ]
            .filter(Boolean)
            .join(" · ") || "—",
        ]),
        ...((a.dkim ?? []).length === 0
          ? [["DKIM", verdict("dkim", "none"), "no signature"] as Child[]]
          : []),
        [
          "DMARC",
          verdict("dmarc", dmarc?.result),
          dmarc
            ? `policy ${dmarc.policy ?? "none"} for ${dmarc.domain ?? "?"}; aligned: SPF ${dmarc.alignment?.spf ?? "no"}, DKIM ${dmarc.alignment?.dkim ?? "no"}`
            : "no DMARC record",
        ],
        ["ARC", verdict("arc", a.arc?.result), a.arc?.info ?? "—"],
      ],
    ),
    a.tempError ? h("p", { class: "error" }, "A check could not finish (temporary DNS failure).") : null,
  ];
}

function spamSection(spam: Record<string, unknown> | null | undefined): Child[] {
  if (!spam) return [];
  return [
    h("h2", { id: "spam" }, "Spam check"),
    facts(
      Object.entries(spam)
        .filter(([, v]) => typeof v !== "object" || v === null)
        .map(([k, v]): [string, Child] => [k, String(v)]),
    ),
    ...Object.entries(spam)
      .filter(([, v]) => typeof v === "object" && v !== null)
      .map(([k, v]) => h("details", null, h("summary", null, k), h("pre", null, JSON.stringify(v, null, 2)))),
  ];
}

export async function messagePage(
  pc: PageContext,
  id: string,
  apiBase: string,
  pageBase: string,
): Promise<Node> {
  const m = need(await pc.api.get<MessageDetail>(`${apiBase}/${seg(id)}`));
  const a = m.auth as Recorded | null;
  const deliveries =
    pc.principal.kind === "user"
      ? null
      : await pc.api.get<{ deliveries: Delivery[] }>(`/deliveries?message=${seg(id)}`);
  const rawRes = await pc.api.raw(`${apiBase}/${seg(id)}/raw`);
  const raw = rawRes.ok ? new Uint8Array(await rawRes.arrayBuffer()) : null;
  const source = raw ? new TextDecoder().decode(raw.subarray(0, SHOWN_SOURCE_BYTES)) : null;
  const stored = m.copies.map((c) => c.mailbox);
  return layout(pc, m.summary.subject || "(no subject)", [
    facts([
      ["id", h("code", null, m.id)],
      ["received", time(m.receivedAt)],
      ["envelope sender", h("code", { class: "wrap" }, m.envelope.mailFrom || "<>")],
      ["envelope recipients", h("code", { class: "wrap" }, m.envelope.rcptTo.join(", "))],
      ["From", m.summary.from ?? "—"],
      ["To", m.summary.to.join(", ") || "—"],
      ["Message-ID", h("code", { class: "wrap" }, m.summary.messageId ?? "—")],
      ["size", bytes(m.size)],
      [
        "stored in",
        stored.length > 0
          ? stored
              .map((s) => (s === "Junk" ? status("JUNK", "warn") : s))
              .flatMap((x, i) => (i ? [", ", x] : [x]))
          : status("NOT STORED (discarded)", "warn"),
      ],
    ]),
    h(
      "p",
      null,
      h("a", { href: `${pageBase}/${seg(id)}/raw`, download: `${id}.eml` }, "Download raw source (.eml)"),
    ),
    h("h2", { id: "connection" }, "Connection"),
    connectionFacts(m.connection as Session),
    h("h2", { id: "authentication" }, "Authentication"),
    ...authSection(a),
    h("h2", { id: "policy" }, "Policy"),
    facts([
      [
        "DNSBL",
        a?.dnsbl
          ? a.dnsbl.hits.length > 0
            ? a.dnsbl.hits.map((x) => `${x.zone} (${x.answer})`).join(", ")
            : `not listed${a.dnsbl.errors.length ? ` (errors: ${a.dnsbl.errors.join(", ")})` : ""}`
          : "not checked",
      ],
      [
        "rules matched",
        a?.rules?.length ? a.rules.map((r) => `${r.rule}: ${r.actions.join(", ")}`).join("; ") : "none",
      ],
      ["webhooks named by rules", a?.webhooks?.length ? a.webhooks.join(", ") : "none"],
    ]),
    ...spamSection(a?.spam),
    deliveries ? h("h2", { id: "webhooks" }, "Webhook deliveries") : null,
    deliveries ? await deliveriesTable(pc, deliveries.ok ? deliveries.body.deliveries : []) : null,
    h("h2", { id: "source" }, "Raw source"),
    source === null
      ? h("p", { class: "muted" }, "The source is not available.")
      : h(
          "details",
          null,
          h(
            "summary",
            null,
            raw && raw.length > SHOWN_SOURCE_BYTES ? `Show the first ${bytes(SHOWN_SOURCE_BYTES)}` : "Show",
          ),
          h("pre", { tabindex: "0" }, source),
        ),
  ]);
}
