/**
 * One domain: every DNS record it needs, checked live (OK / MISSING / DIFFERENT), DKIM keys with
 * rotation, MTA-STS and autoconfig status, and its settings.
 */

import type { DkimKeyInfo } from "../../../src/admin/dkim-store.ts";
import type { CheckResult, DnsRecord } from "../../../src/admin/dns-records.ts";
import type { DomainSettings } from "../../../src/admin/domain-settings.ts";
import { need, seg } from "../api.ts";
import {
  actionButton,
  BASE,
  facts,
  type PageContext,
  postForm,
  select,
  status,
  submit,
  type Tone,
  table,
  time,
} from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

interface DomainAnswer {
  name: string;
  plusAddressing: boolean;
  settings: DomainSettings;
}

const TONES: Record<string, Tone> = { ok: "ok", missing: "bad", different: "warn", error: "bad" };

function checkStatus(r: CheckResult | undefined): Node {
  if (!r) return status("NOT CHECKED", "none");
  return status(r.status.toUpperCase(), TONES[r.status] ?? "none");
}

export async function domainPage(pc: PageContext, name: string): Promise<Node> {
  const base = `/domains/${seg(name)}`;
  const domain = need(await pc.api.get<DomainAnswer>(base));
  const [dns, check, dkim] = await Promise.all([
    pc.api.get<{ records: DnsRecord[]; zone: string }>(`${base}/dns`),
    pc.api.get<{ ok: boolean; results: CheckResult[] }>(`${base}/dns/check`),
    pc.api.get<{ keys: DkimKeyInfo[] }>(`${base}/dkim`),
  ]);
  const records = need(dns);
  const results = check.ok ? check.body.results : [];
  const resultFor = (r: DnsRecord) =>
    results.find((x) => x.name === r.name && x.type === r.type && x.value === r.value);
  const byPurpose = (p: string) => {
    const r = records.records.find((x) => x.purpose === p);
    return r ? checkStatus(resultFor(r)) : status("NOT NEEDED", "none");
  };
  const keys = dkim.ok ? dkim.body.keys : [];
  const d = domain.name;
  const s = domain.settings;
  const okCount = results.filter((r) => r.status === "ok").length;

  return layout(pc, d, [
    h("h2", { id: "dns" }, "DNS records"),
    check.ok
      ? h(
          "p",
          null,
          `${okCount} of ${results.length} records are published as needed (checked live just now). `,
          h("a", { href: `${BASE}${base}#dns` }, "Check again"),
        )
      : h("p", { class: "error", role: "alert" }, `Live check not possible: ${check.error}`),
    table(
      `DNS records for ${d}`,
      ["status", "purpose", "type", "name", "value needed", "found"],
      records.records.map((r) => {
        const res = resultFor(r);
        return [
          checkStatus(res),
          r.purpose,
          r.type,
          h("code", { class: "wrap" }, r.name),
          h("code", { class: "wrap" }, r.value),
          res && res.status !== "ok" && res.found.length > 0
            ? h("code", { class: "wrap" }, res.found.join(" | "))
            : "",
        ];
      }),
    ),
    h("details", null, h("summary", null, "As a zone file"), h("pre", null, records.zone)),

    h("h2", { id: "mail-services" }, "MTA-STS and autoconfig"),
    facts([
      ["MTA-STS mode", s.mtaSts.mode],
      ["MTA-STS TXT record", byPurpose("MTA-STS")],
      ["MTA-STS policy host", byPurpose("MTA-STS policy host")],
      ["policy URL", h("code", { class: "wrap" }, `https://mta-sts.${d}/.well-known/mta-sts.txt`)],
      ["TLS-RPT", byPurpose("TLS-RPT")],
      ["autoconfig host", byPurpose("autoconfig host")],
      ["autoconfig URL", h("code", { class: "wrap" }, `https://autoconfig.${d}/mail/config-v1.1.xml`)],
      [
        "IMAP / submission SRV",
        h("span", null, byPurpose("IMAP (RFC 6186)"), " ", byPurpose("submission (RFC 6186)")),
      ],
    ]),

    h("h2", { id: "dkim" }, "DKIM keys"),
    dkim.ok ? null : h("p", { class: "error", role: "alert" }, dkim.error),
    table(
      `DKIM keys of ${d}`,
      ["selector", "algorithm", "state", "created", "DNS", ""],
      keys.map((k) => [
        h("code", null, k.selector),
        k.algorithm,
        k.active ? status("ACTIVE", "ok") : status("RETIRED", "none"),
        time(k.createdAt),
        checkStatus(results.find((r) => r.name === k.name)),
        k.active
          ? ""
          : actionButton(pc, `${BASE}${base}/dkim/${seg(k.selector)}/delete`, "Delete", {
              danger: true,
              confirm: `Delete retired key ${k.selector}? Mail signed with it no longer verifies.`,
              label: `Delete key ${k.selector}`,
            }),
      ]),
      "No DKIM key yet: this domain's outgoing mail is not signed.",
    ),
    keys.some((k) => k.active)
      ? postForm(
          pc,
          `${BASE}${base}/dkim/rotate`,
          { label: "Rotate DKIM keys", confirm: "Make new keys and retire the active ones?" },
          select("Algorithm", "algorithm", ["", "rsa-2048", "ed25519"]),
          submit("Rotate keys"),
        )
      : postForm(
          pc,
          `${BASE}${base}/dkim`,
          { label: "Generate a DKIM key" },
          select("Algorithm", "algorithm", ["rsa-2048", "ed25519"], "rsa-2048"),
          submit("Generate key"),
        ),

    h("h2", { id: "settings" }, "Settings"),
    postForm(
      pc,
      `${BASE}${base}/settings`,
      { class: "stack", label: "Domain settings" },
      h(
        "label",
        null,
        h("input", { type: "checkbox", name: "plusAddressing", checked: domain.plusAddressing || undefined }),
        " Plus addressing (user+tag@ delivers to user@)",
      ),
      select("MTA-STS mode", "mtaStsMode", ["testing", "enforce", "none"], s.mtaSts.mode),
      select("DMARC policy", "dmarcPolicy", ["none", "quarantine", "reject"], s.dmarc.policy),
      h(
        "label",
        null,
        "DMARC report address (rua)",
        h("input", { name: "dmarcRua", value: s.dmarc.rua ?? "", placeholder: `mailto:postmaster@${d}` }),
      ),
      submit("Save settings"),
    ),
    pc.principal.kind === "admin"
      ? h(
          "p",
          null,
          actionButton(pc, `${BASE}${base}/delete`, "Delete domain", {
            danger: true,
            confirm: `Delete ${d}? It must have no users or aliases left.`,
          }),
        )
      : null,
  ]);
}
