/**
 * Policy stage: DNSBL results and the configured rules decide what happens to the message; when no rule
 * decides, the default policy does (DMARC p=reject → 550 5.7.1, p=quarantine → Junk).
 */
import type { SmtpReply, Transaction } from "../contract.ts";
import type { DnsResolver } from "../dns/resolver.ts";
import { checkDnsbls, type DnsblList, type DnsblResult } from "../rules/dnsbl.ts";
import { type CompiledRule, evaluateRules, type RuleInput, type RuleTrace } from "../rules/engine.ts";
import type { AuthStageOutcome } from "./auth-stage.ts";

export interface PolicyConfig {
  rules: CompiledRule[];
  dnsbl: DnsblList[];
}

export type Disposition =
  | { kind: "refuse"; reply: SmtpReply; trace: RuleTrace[]; dnsbl: DnsblResult | null }
  | {
      kind: "deliver";
      /** The mailbox each user gets the copy in (INBOX unless quarantined or a rule says otherwise). */
      mailbox: string;
      discard: boolean;
      tags: Array<{ header: string; value: string }>;
      webhooks: string[];
      trace: RuleTrace[];
      dnsbl: DnsblResult | null;
    };

export function senderDomain(mailFrom: string): string | null {
  const at = mailFrom.lastIndexOf("@");
  return at > 0 ? mailFrom.slice(at + 1).toLowerCase() : null;
}

export function envelopeInput(
  tx: Pick<Transaction, "mailFrom" | "session">,
  rcptTo: string[],
  dnsbl: DnsblResult | null,
): RuleInput {
  return {
    rcptTo,
    mailFrom: tx.mailFrom,
    clientIp: tx.session.connection.client.address,
    helo: tx.session.helo,
    authUser: tx.session.user,
    dnsbl,
  };
}

export async function lookupDnsbls(
  policy: PolicyConfig | undefined,
  resolver: DnsResolver | undefined,
  tx: Pick<Transaction, "mailFrom" | "session">,
): Promise<DnsblResult | null> {
  if (!policy || policy.dnsbl.length === 0 || !resolver) return null;
  return checkDnsbls(
    policy.dnsbl,
    {
      ip: tx.session.connection.client.address,
      helo: tx.session.helo,
      senderDomain: senderDomain(tx.mailFrom),
    },
    resolver,
  );
}

export async function decide(opts: {
  tx: Transaction;
  auth: Extract<AuthStageOutcome, { kind: "checked" }>;
  headers: Array<{ name: string; value: string }>;
  headerFrom: string[];
  size: number;
  policy: PolicyConfig | undefined;
  resolver: DnsResolver | undefined;
}): Promise<Disposition> {
  const { tx, auth } = opts;
  const dnsbl = await lookupDnsbls(opts.policy, opts.resolver, tx);
  const decision = evaluateRules(
    opts.policy?.rules ?? [],
    {
      ...envelopeInput(tx, tx.rcptTo, dnsbl),
      headerFrom: opts.headerFrom,
      headers: opts.headers,
      size: opts.size,
      auth: auth.results,
    },
    "data",
  );
  const base = { trace: decision.trace, dnsbl };
  if (decision.verdict === "reject" || decision.verdict === "tempfail") {
    return { kind: "refuse", reply: decision.reply as SmtpReply, ...base };
  }
  const deliver = (mailbox: string, discard = false): Disposition => ({
    kind: "deliver",
    mailbox,
    discard,
    tags: decision.tags,
    webhooks: decision.webhooks,
    ...base,
  });
  if (decision.verdict === "discard") return deliver("INBOX", true);
  const ruled = decision.deliverTo ?? (decision.quarantine ? "Junk" : null);
  if (decision.verdict === "accept") return deliver(ruled ?? "INBOX");
  // No rule decided: the default policy.
  if (auth.dmarc?.action === "reject") return { kind: "refuse", reply: auth.dmarc.reply, ...base };
  if (dnsbl && dnsbl.hits.length > 0) {
    const zones = dnsbl.hits.map((h) => h.zone).join(", ");
    return {
      kind: "refuse",
      reply: { code: 554, enhanced: "5.7.1", message: `Client host listed by ${zones}` },
      ...base,
    };
  }
  return deliver(ruled ?? (auth.dmarc?.action === "quarantine" ? "Junk" : "INBOX"));
}
