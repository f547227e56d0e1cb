/**
 * `mxedge messages show <id>` as text: the envelope, the headers a reader looks for, and the verdicts the
 * pipeline recorded (SPF, DKIM, DMARC, ARC, DNSBL hits, the rules that matched), one line each, so the
 * text view tells what `--json` tells.
 */

type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const obj = (v: unknown): Json | null =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : null;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** `pass (a; b)`: a result with the details that explain it, the empty ones left out. */
function verdict(result: unknown, details: Array<string | null>): string {
  const shown = details.filter((d): d is string => d !== null);
  return `${str(result) ?? "none"}${shown.length ? ` (${shown.join("; ")})` : ""}`;
}

function spfLine(spf: Json | null): string {
  if (!spf) return "none";
  return verdict(spf.result, [
    str(spf.domain) && `domain ${spf.domain}`,
    str(spf.clientIp) && `client ${spf.clientIp}`,
    str(spf.helo) && `helo ${spf.helo}`,
    str(spf.info),
  ]);
}

function dkimLines(dkim: unknown[]): string[] {
  if (dkim.length === 0) return ["none (no signature)"];
  return dkim.map((d) => {
    const s = obj(d) ?? {};
    return verdict(s.result, [
      str(s.domain) && `d=${s.domain}`,
      str(s.selector) && `s=${s.selector}`,
      str(s.algorithm) && `a=${s.algorithm}`,
      str(s.aligned) && `aligned with ${s.aligned}`,
      str(s.info),
    ]);
  });
}

function dmarcLine(dmarc: Json | null): string {
  if (!dmarc) return "none (no From domain policy checked)";
  const alignment = obj(dmarc.alignment);
  return verdict(dmarc.result, [
    str(dmarc.domain) && `domain ${dmarc.domain}`,
    str(dmarc.policy) && `policy ${dmarc.policy}`,
    alignment && str(alignment.spf) && `spf aligned ${alignment.spf}`,
    alignment && str(alignment.dkim) && `dkim aligned ${alignment.dkim}`,
  ]);
}

function arcLine(arc: Json | null): string {
  if (!arc) return "none";
  return verdict(arc.result, [typeof arc.instance === "number" ? `i=${arc.instance}` : null, str(arc.info)]);
}

/** One `name  value` row per verdict; continuation rows (several DKIM signatures) are indented. */
function rows(label: string, values: string[]): string[] {
  return values.map((v, i) => `${(i === 0 ? label : "").padEnd(12)}${v}`);
}

export function messageText(m: Json): string {
  const s = (obj(m.summary) ?? {}) as { from?: string; to?: string[]; subject?: string; date?: string };
  const env = (obj(m.envelope) ?? {}) as { mailFrom?: string; rcptTo?: string[] };
  const lines = [
    `id          ${m.id}`,
    `received    ${new Date(Number(m.receivedAt)).toISOString()}`,
    `mail from   ${env.mailFrom || "<>"}`,
    `rcpt to     ${(env.rcptTo ?? []).join(", ")}`,
    `from        ${s.from ?? "-"}`,
    `to          ${(s.to ?? []).join(", ") || "-"}`,
    `subject     ${s.subject ?? "-"}`,
    `date        ${s.date ?? "-"}`,
  ];
  const auth = obj(m.auth);
  if (!auth) return `${[...lines, "auth        not checked"].join("\n")}\n`;
  // auth.dnsbl is DnsblResult ({hits, errors}) and auth.rules RuleTrace[] ({rule, actions}).
  const dnsblResult = obj(auth.dnsbl);
  const dnsbl = [
    ...list(dnsblResult?.hits)
      .map(obj)
      .filter((h): h is Json => h !== null)
      .map((h) => `listed by ${str(h.zone) ?? "?"} (${str(h.answer) ?? "?"})`),
    ...list(dnsblResult?.errors).map((e) => `not asked: ${String(e)}`),
  ];
  const rules = list(auth.rules)
    .map(obj)
    .filter((r): r is Json => r !== null)
    .map((r) => `${str(r.rule) ?? "?"}${list(r.actions).length ? `: ${list(r.actions).join(", ")}` : ""}`);
  lines.push(
    ...rows("spf", [spfLine(obj(auth.spf))]),
    ...rows("dkim", dkimLines(list(auth.dkim))),
    ...rows("dmarc", [dmarcLine(obj(auth.dmarc))]),
    ...rows("arc", [arcLine(obj(auth.arc))]),
    ...rows("dnsbl", dnsbl.length ? dnsbl : ["-"]),
    ...rows("rules", rules.length ? rules : ["-"]),
  );
  if (auth.tempError === true) lines.push("note        a check could not finish: temporary DNS failure");
  return `${lines.join("\n")}\n`;
}
