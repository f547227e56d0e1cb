/**
 * Rules as the engine evaluates them: in order, with the stage each runs at, its conditions and
 * actions, the DNSBLs and the default policy; and a trial on a described message showing which rules
 * match and what they decide, at RCPT and after DATA.
 */
import type { RuleDecision } from "../../../src/rules/engine.ts";
import { need } from "../api.ts";
import { BASE, field, type PageContext, postForm, select, status, submit, table } from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

interface RuleView {
  position: number;
  name: string;
  stages: string[];
  match: Record<string, unknown>;
  actions: string[];
}

function conditions(m: Record<string, unknown>, negated = false): string {
  const parts = Object.entries(m)
    .filter(([k]) => k !== "not")
    .map(
      ([k, v]) =>
        `${k} = ${Array.isArray(v) ? v.join(" | ") : typeof v === "object" ? JSON.stringify(v) : String(v)}`,
    );
  if (m.not) parts.push(`not (${conditions(m.not as Record<string, unknown>, true)})`);
  return parts.join(" and ") || (negated ? "nothing" : "every message");
}

function decision(title: string, d: RuleDecision): Node {
  const v = d.verdict ?? "no rule decided: default policy";
  return h(
    "section",
    { "aria-label": title },
    h("h3", null, title),
    h(
      "p",
      null,
      status(
        v.toUpperCase(),
        d.verdict === "reject" || d.verdict === "tempfail" ? "bad" : d.verdict ? "ok" : "none",
      ),
      d.reply ? ` ${d.reply.code} ${d.reply.enhanced} ${d.reply.message}` : "",
      d.quarantine ? " · quarantined (Junk)" : "",
      d.deliverTo ? ` · into ${d.deliverTo}` : "",
    ),
    table(
      `${title}: matching rules`,
      ["rule", "actions taken"],
      d.trace.map((t) => [t.rule, t.actions.join(", ")]),
      "No rule matched.",
    ),
  );
}

export async function rulesPage(
  pc: PageContext,
  trial?: { rcpt: RuleDecision; data: RuleDecision },
): Promise<Node> {
  const { rules, dnsbl } = need(
    await pc.api.get<{ rules: RuleView[]; dnsbl: Array<{ zone: string }> }>("/rules"),
  );
  const q = pc.query;
  return layout(pc, "Rules", [
    h(
      "p",
      { class: "muted" },
      "Rules come from the configuration ([[rules]] in the config file, RULES on Workers) and run in this order. " +
        "accept, reject, tempfail and discard decide and stop; stop ends without deciding; the rest add up. " +
        "Envelope-only rules also run at RCPT time, where only their refusals count.",
    ),
    table(
      "Rules in evaluation order",
      ["#", "rule", "runs at", "when", "then"],
      rules.map((r) => [
        String(r.position),
        r.name,
        r.stages.join(" + "),
        h("code", { class: "wrap" }, conditions(r.match)),
        r.actions.join(", "),
      ]),
      "No rules configured: only the default policy applies.",
    ),
    h("h2", null, "Default policy"),
    h(
      "p",
      null,
      "When no rule decides: DMARC p=reject is refused with 550 5.7.1, p=quarantine goes to Junk, and a client listed on a DNSBL is refused with 554 5.7.1.",
    ),
    table(
      "DNSBL zones",
      ["zone"],
      dnsbl.map((l) => [l.zone]),
      "No DNSBL configured.",
    ),
    h("h2", { id: "trial" }, "Try a message"),
    postForm(
      pc,
      `${BASE}/rules/trial#trial`,
      { label: "Try the rules on a message" },
      field("Recipient", "rcptTo", {
        required: true,
        value: q.rcptTo ?? "",
        placeholder: "someone@example.com",
      }),
      field("Envelope sender", "mailFrom", { value: q.mailFrom ?? "" }),
      field("From header", "headerFrom", { value: q.headerFrom ?? "" }),
      field("Client IP", "clientIp", { value: q.clientIp ?? "192.0.2.1" }),
      select("SPF", "spf", ["", "pass", "fail", "softfail", "none"], q.spf),
      select("DKIM", "dkim", ["", "pass", "fail", "none"], q.dkim),
      select("DMARC", "dmarc", ["", "pass", "fail", "none"], q.dmarc),
      submit("Evaluate"),
    ),
    trial ? decision("At RCPT", trial.rcpt) : null,
    trial ? decision("After DATA", trial.data) : null,
  ]);
}
