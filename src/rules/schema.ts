/**
 * Rules in the config file, evaluated in order (maddy's `match` blocks, Postfix-like in spirit):
 *
 *   [[rules]]
 *   name = "quarantine unsigned bank mail"
 *   match = { header-from = "*@bank.example", dkim = "!pass" }
 *   action = ["tag X-Warning: unsigned", "quarantine"]
 *
 * Every condition in `match` must hold (and none in `not`). Glob patterns use `*` and `?`, case-insensitive.
 */
import { z } from "zod";

const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);
const glob = oneOrMany(z.string().min(1).max(512));
/** A result list such as "pass" or ["fail", "softfail"]; a leading "!" negates ("!pass"). */
const results = oneOrMany(z.string().regex(/^!?[a-z]+$/, "a result such as pass, fail, none or !pass"));

export const MatchSchema: z.ZodType<Match> = z.lazy(() =>
  z.strictObject({
    /** Envelope recipients (RCPT TO): holds when any of them matches. */
    rcpt: glob.optional(),
    /** The envelope recipients' domains: holds when any matches. */
    "rcpt-domain": glob.optional(),
    /** Envelope MAIL FROM. */
    from: glob.optional(),
    /** The From header's address(es). */
    "header-from": glob.optional(),
    /** CIDRs of the real client IP (from PROXY when proxied). */
    "src-ip": oneOrMany(z.string().min(1)).optional(),
    /** The HELO/EHLO name. */
    helo: glob.optional(),
    /** The SPF result: pass, fail, softfail, neutral, none, temperror, permerror. */
    spf: results.optional(),
    /** True when any DKIM signature has one of these results ("!pass": no signature passed). */
    dkim: results.optional(),
    /** The DMARC result: pass, fail, none, … */
    dmarc: results.optional(),
    /** The ARC chain result: pass, fail, none. */
    arc: results.optional(),
    /** true: listed on any configured DNSBL; a string or list: listed on one of these zones. */
    dnsbl: z.union([z.boolean(), oneOrMany(z.string().min(1))]).optional(),
    /** Message size bounds in bytes. */
    size: z
      .strictObject({
        /** Larger than this many bytes. */
        gt: z.number().int().nonnegative().optional(),
        /** Smaller than this many bytes. */
        lt: z.number().int().positive().optional(),
      })
      .optional(),
    /** A header field by name whose value matches the regular expression. */
    header: z
      .strictObject({
        /** The field name, case-insensitive. */
        name: z.string().min(1),
        /** A JavaScript regular expression (case-insensitive), tested against each such field's value. */
        regex: z.string().min(1),
      })
      .optional(),
    /** The SMTP AUTH login of a submission. */
    "auth-user": glob.optional(),
    /** A nested match that must not hold. */
    not: MatchSchema.optional(),
  }),
);

export interface Match {
  rcpt?: string | string[];
  "rcpt-domain"?: string | string[];
  from?: string | string[];
  "header-from"?: string | string[];
  "src-ip"?: string | string[];
  helo?: string | string[];
  spf?: string | string[];
  dkim?: string | string[];
  dmarc?: string | string[];
  arc?: string | string[];
  dnsbl?: boolean | string | string[];
  size?: { gt?: number; lt?: number };
  header?: { name: string; regex: string };
  "auth-user"?: string | string[];
  not?: Match;
}

export const RuleSchema = z.strictObject({
  /** Shown in the rule trace, logs and errors. */
  name: z.string().min(1).max(200).optional(),
  match: MatchSchema.default({}),
  /**
   * accept · reject [code [enhanced]] [text] · tempfail [text] · quarantine · tag <Header: value> ·
   * discard · deliver <mailbox> · webhook <name> · stop
   */
  action: oneOrMany(z.string().min(1).max(1000)),
});
export type RuleConfig = z.infer<typeof RuleSchema>;

export const DnsblSchema = z.strictObject({
  /** e.g. "zen.spamhaus.org" or, Postfix style, "zen.spamhaus.org=127.0.0.[2..11]". */
  zone: z.string().min(3),
  /** What is looked up: the client IP (DNSBL), or the HELO name / sender domain (RHSBL). */
  check: z.enum(["ip", "helo", "sender-domain"]).default("ip"),
});
export type DnsblConfig = z.infer<typeof DnsblSchema>;
