/** Message search: sender, recipient, subject, dates and verdict; newest first, with each one's checks. */
import type { MessageHit } from "../../../src/store/message-search.ts";
import { need, seg } from "../api.ts";
import { BASE, bytes, field, type PageContext, select, table, time, verdict } from "../components.ts";
import { type Child, h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

const VERDICTS = [
  "",
  "dmarc:fail",
  "dmarc:pass",
  "dmarc:none",
  "spf:fail",
  "spf:softfail",
  "spf:pass",
  "dkim:fail",
  "dkim:pass",
  "dkim:none",
  "arc:fail",
  "arc:pass",
];
const FIELDS = ["from", "to", "subject", "since", "until", "verdict"] as const;
const PAGE = 50;

/** The search form and results, for /dashboard/messages (everyone) and /dashboard/me (a user's own). */
export async function messageSearch(pc: PageContext, apiPath: string, pagePath: string): Promise<Child[]> {
  const q = pc.query;
  const offset = Math.max(Number(q.offset) || 0, 0);
  const params = new URLSearchParams();
  for (const f of FIELDS) if (q[f]) params.set(f, q[f]);
  const answer = await pc.api.get<{ messages: MessageHit[] }>(
    `${apiPath}?${params}&limit=${PAGE + 1}&offset=${offset}`,
  );
  const hits = answer.ok ? answer.body.messages : [];
  const more = hits.length > PAGE;
  const page = (o: number) => {
    const p = new URLSearchParams(params);
    p.set("offset", String(o));
    return `${pagePath}?${p}`;
  };
  return [
    h(
      "form",
      { method: "get", action: pagePath, class: "row", role: "search", "aria-label": "Search messages" },
      field("Sender", "from", { value: q.from ?? "", placeholder: "envelope or From" }),
      field("Recipient", "to", { value: q.to ?? "" }),
      field("Subject", "subject", { value: q.subject ?? "" }),
      field("Since", "since", { type: "date", value: q.since ?? "" }),
      field("Until", "until", { type: "date", value: q.until ?? "" }),
      select("Verdict", "verdict", VERDICTS, q.verdict ?? ""),
      h("button", { type: "submit" }, "Search"),
    ),
    answer.ok ? null : h("p", { class: "error", role: "alert" }, answer.error),
    table(
      "Messages",
      ["received", "sender", "recipients", "subject", "checks", "size"],
      hits
        .slice(0, PAGE)
        .map((m) => [
          time(m.receivedAt),
          h("span", { class: "wrap" }, m.mailFrom || "<>"),
          h("span", { class: "wrap" }, m.rcptTo.join(", ")),
          h("a", { href: `${pagePath.replace(/\/$/, "")}/${seg(m.id)}` }, m.subject || "(no subject)"),
          h(
            "span",
            null,
            verdict("spf", m.verdicts.spf),
            " ",
            verdict("dkim", m.verdicts.dkim),
            " ",
            verdict("dmarc", m.verdicts.dmarc),
          ),
          bytes(m.size),
        ]),
      "No message matches.",
    ),
    h(
      "nav",
      { "aria-label": "Pages" },
      offset > 0 ? h("a", { href: page(Math.max(offset - PAGE, 0)), rel: "prev" }, "← Newer") : null,
      offset > 0 && more ? " · " : null,
      more ? h("a", { href: page(offset + PAGE), rel: "next" }, "Older →") : null,
    ),
  ];
}

export async function messagesPage(pc: PageContext): Promise<Node> {
  need(await pc.api.get<unknown>("/messages?limit=1"));
  return layout(pc, "Messages", await messageSearch(pc, "/messages", `${BASE}/messages`));
}
