/**
 * The rules engine: compiled once from the config, evaluated per message (and, for rules that only look
 * at the envelope, per recipient at RCPT time). Rules run in order; accept, reject, tempfail and discard
 * decide and end evaluation, `stop` ends it without deciding, the other actions accumulate.
 * When no rule decides, the default policy applies (DMARC, DNSBL): see auth-stage.ts and routes.
 */
import type { SmtpReply } from "../contract.ts";
import { type Cidr, matchesAnyCidr, parseCidrList } from "../net/cidr.ts";
import type { AuthResults } from "../pipeline/authenticate.ts";
import { parseAction, type RuleAction } from "./actions.ts";
import type { DnsblResult } from "./dnsbl.ts";
import type { Match, RuleConfig } from "./schema.ts";

export interface RuleInput {
  rcptTo: string[];
  mailFrom: string;
  clientIp: string;
  helo: string;
  authUser: string | null;
  dnsbl: DnsblResult | null;
  /** Known after DATA only: */
  headerFrom?: string[];
  headers?: Array<{ name: string; value: string }>;
  size?: number;
  auth?: AuthResults | null;
}

export interface CompiledRule {
  name: string;
  match: Match;
  actions: RuleAction[];
  cidrs: Cidr[] | null;
  regex: RegExp | null;
  /** Decidable at RCPT time: every condition (also under `not`) uses the envelope only. */
  envelopeOnly: boolean;
}

export interface RuleTrace {
  rule: string;
  actions: string[];
}

export interface RuleDecision {
  verdict: "accept" | "reject" | "tempfail" | "discard" | null;
  reply: SmtpReply | null;
  quarantine: boolean;
  deliverTo: string | null;
  tags: Array<{ header: string; value: string }>;
  webhooks: string[];
  trace: RuleTrace[];
}

const CONTENT_KEYS: Array<keyof Match> = ["header-from", "header", "spf", "dkim", "dmarc", "arc", "size"];

function envelopeOnly(m: Match): boolean {
  return CONTENT_KEYS.every((k) => m[k] === undefined) && (m.not ? envelopeOnly(m.not) : true);
}

function list<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export class RuleConfigError extends Error {}

export function compileRules(configs: RuleConfig[]): CompiledRule[] {
  return configs.map((cfg, i) => {
    const name = cfg.name ?? `rule ${i + 1}`;
    try {
      const collectIps = (m: Match | undefined): string[] =>
        m ? [...list(m["src-ip"]), ...collectIps(m.not)] : [];
      const ips = collectIps(cfg.match);
      return {
        name,
        match: cfg.match,
        actions: list(cfg.action).map(parseAction),
        cidrs: ips.length > 0 ? parseCidrList(ips) : null,
        regex: cfg.match.header ? new RegExp(cfg.match.header.regex, "i") : null,
        envelopeOnly: envelopeOnly(cfg.match),
      };
    } catch (err) {
      throw new RuleConfigError(`rules.${i} (${name}): ${(err as Error).message}`);
    }
  });
}

const globCache = new Map<string, RegExp>();
function globMatch(patterns: string[], values: string[]): boolean {
  return patterns.some((p) => {
    let re = globCache.get(p);
    if (!re) {
      re = new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".")}$`,
        "i",
      );
      globCache.set(p, re);
    }
    return values.some((v) => re.test(v));
  });
}

function resultMatch(wanted: string[], actual: string[]): boolean {
  return wanted.some((w) => (w.startsWith("!") ? !actual.includes(w.slice(1)) : actual.includes(w)));
}

function conditionsHold(rule: CompiledRule, m: Match, input: RuleInput): boolean {
  const domainOf = (a: string) => a.slice(a.lastIndexOf("@") + 1);
  const checks: Array<() => boolean> = [];
  if (m.rcpt) checks.push(() => globMatch(list(m.rcpt), input.rcptTo));
  if (m["rcpt-domain"]) checks.push(() => globMatch(list(m["rcpt-domain"]), input.rcptTo.map(domainOf)));
  if (m.from) checks.push(() => globMatch(list(m.from), [input.mailFrom]));
  if (m["header-from"]) checks.push(() => globMatch(list(m["header-from"]), input.headerFrom ?? []));
  if (m["src-ip"]) checks.push(() => matchesAnyCidr(parseCidrList(list(m["src-ip"])), input.clientIp));
  if (m.helo) checks.push(() => globMatch(list(m.helo), [input.helo]));
  if (m["auth-user"])
    checks.push(() => input.authUser !== null && globMatch(list(m["auth-user"]), [input.authUser]));
  if (m.spf) checks.push(() => resultMatch(list(m.spf), [input.auth?.spf.result ?? "none"]));
  if (m.dkim) {
    checks.push(() => {
      const found = input.auth?.dkim.map((d) => d.result) ?? [];
      return resultMatch(list(m.dkim), found.length > 0 ? found : ["none"]);
    });
  }
  if (m.dmarc) checks.push(() => resultMatch(list(m.dmarc), [input.auth?.dmarc?.result ?? "none"]));
  if (m.arc) checks.push(() => resultMatch(list(m.arc), [input.auth?.arc.result ?? "none"]));
  if (m.dnsbl !== undefined) {
    checks.push(() => {
      const hits = input.dnsbl?.hits.map((h) => h.zone) ?? [];
      if (typeof m.dnsbl === "boolean") return m.dnsbl === hits.length > 0;
      return list(m.dnsbl as string | string[]).some((z) => hits.includes(z.toLowerCase()));
    });
  }
  if (m.size) {
    const { gt, lt } = m.size;
    checks.push(
      () =>
        input.size !== undefined &&
        (gt === undefined || input.size > gt) &&
        (lt === undefined || input.size < lt),
    );
  }
  if (m.header) {
    const name = m.header.name.toLowerCase();
    const re = rule.regex ?? new RegExp(m.header.regex, "i");
    checks.push(() => (input.headers ?? []).some((h) => h.name.toLowerCase() === name && re.test(h.value)));
  }
  if (m.not) checks.push(() => !conditionsHold(rule, m.not as Match, input));
  return checks.every((c) => c());
}

export const describe = (a: RuleAction): string =>
  a.kind === "reject" || a.kind === "tempfail"
    ? `${a.kind} ${a.reply.code} ${a.reply.enhanced}`
    : a.kind === "tag"
      ? `tag ${a.header}`
      : a.kind === "deliver"
        ? `deliver ${a.mailbox}`
        : a.kind === "webhook"
          ? `webhook ${a.name}`
          : a.kind;

export function evaluateRules(rules: CompiledRule[], input: RuleInput, phase: "rcpt" | "data"): RuleDecision {
  const d: RuleDecision = {
    verdict: null,
    reply: null,
    quarantine: false,
    deliverTo: null,
    tags: [],
    webhooks: [],
    trace: [],
  };
  for (const rule of rules) {
    if (phase === "rcpt" && !rule.envelopeOnly) continue;
    if (!conditionsHold(rule, rule.match, input)) continue;
    // At RCPT time only refusals (and an accept that overrides them) count; the rest waits for the message.
    const actions =
      phase === "rcpt"
        ? rule.actions.filter((a) => a.kind === "reject" || a.kind === "tempfail" || a.kind === "accept")
        : rule.actions;
    if (actions.length === 0) continue;
    d.trace.push({ rule: rule.name, actions: actions.map(describe) });
    for (const a of actions) {
      switch (a.kind) {
        case "accept":
        case "discard":
          d.verdict = a.kind;
          return d;
        case "reject":
        case "tempfail":
          d.verdict = a.kind;
          d.reply = a.reply;
          return d;
        case "stop":
          return d;
        case "quarantine":
          d.quarantine = true;
          break;
        case "tag":
          d.tags.push({ header: a.header, value: a.value });
          break;
        case "deliver":
          d.deliverTo = a.mailbox;
          break;
        case "webhook":
          d.webhooks.push(a.name);
          break;
      }
    }
  }
  return d;
}
