/**
 * Request bodies of the admin API. The routes validate with these, and the OpenAPI document at
 * /api/openapi.json is built from the same schemas, so the two cannot drift.
 */
import { z } from "zod";
import { DKIM_ALGORITHMS } from "./dkim-keys.ts";
import { DmarcPolicies, MtaStsModes } from "./domain-settings.ts";

const address = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, "expected local@domain");

export const DomainCreate = z.strictObject({
  name: z.string().trim().min(1).max(253),
});

export const DomainUpdate = z.strictObject({
  plusAddressing: z.boolean().optional(),
  mtaSts: z
    .strictObject({
      mode: z.enum(MtaStsModes).optional(),
      maxAge: z.number().int().min(86_400).max(31_557_600).optional(),
    })
    .optional(),
  dmarc: z
    .strictObject({
      policy: z.enum(DmarcPolicies).optional(),
      rua: z
        .string()
        .regex(/^mailto:\S+@\S+$/, "expected mailto:address")
        .optional(),
    })
    .optional(),
  tlsRpt: z
    .strictObject({
      rua: z
        .string()
        .regex(/^mailto:\S+@\S+$/, "expected mailto:address")
        .optional(),
    })
    .optional(),
});

export const UserCreate = z.strictObject({
  address,
  password: z.string().min(8, "must be at least 8 characters").max(1024),
});

export const PasswordChange = z.strictObject({
  password: z.string().min(8, "must be at least 8 characters").max(1024),
});

export const UserImport = z.strictObject({
  format: z.literal("dovecot-passwd"),
  text: z.string().max(16 * 1024 * 1024),
});

export const AliasCreate = z.strictObject({
  address,
  /** Local addresses to deliver to, or "discard" to accept and drop. `*@domain` is the catch-all. */
  targets: z.union([z.array(address).min(1).max(100), z.literal("discard")]),
});

export const DkimCreate = z.strictObject({
  selector: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "lower-case letters, digits and dashes")
    .optional(),
  algorithm: z.enum(DKIM_ALGORITHMS as ["rsa-2048", "ed25519"]).default("rsa-2048"),
});

/** Rotation: without an algorithm every active key is replaced (one new key per algorithm). */
export const DkimRotate = z.strictObject({
  selector: DkimCreate.shape.selector,
  algorithm: z.enum(DKIM_ALGORITHMS as ["rsa-2048", "ed25519"]).optional(),
});

/** A date or a date-time (ISO 8601), or ms since the epoch: for message search bounds. */
const when = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const t = /^\d+$/.test(v) ? Number(v) : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
    if (Number.isFinite(t)) return t;
    ctx.addIssue({ code: "custom", message: "expected a date (YYYY-MM-DD), an ISO date-time or ms" });
    return z.NEVER;
  });
/** Empty query fields (a search form's blanks) mean "no filter". */
const optionalText = z
  .string()
  .trim()
  .max(320)
  .transform((v) => v || undefined)
  .optional();

export const MessageListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  from: optionalText,
  to: optionalText,
  subject: optionalText,
  since: z.union([z.literal(""), when]).optional(),
  until: z.union([z.literal(""), when]).optional(),
  /** `check:result`, e.g. dmarc:fail, spf:pass, dkim:none. */
  verdict: z
    .union([
      z.literal(""),
      z.string().regex(/^(spf|dkim|dmarc|arc):[a-z]+$/, "expected check:result, e.g. dmarc:fail"),
    ])
    .optional(),
});

export const TokenCreate = z.strictObject({
  name: z.string().trim().min(1).max(100),
  domain: z.string().trim().min(1).max(253),
});

export interface FieldIssue {
  path: string;
  message: string;
}

/** The body of every 400: one entry per wrong field. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}

const result = z
  .string()
  .trim()
  .regex(/^[a-z]*$/, "a result such as pass or fail")
  .transform((v) => v || undefined)
  .optional();

/** A message described by hand, to see which rules match it and what they decide. */
export const RuleTrial = z.strictObject({
  mailFrom: z.string().trim().max(320).default(""),
  rcptTo: z.string().trim().min(3).max(320),
  clientIp: z.string().trim().min(2).max(45).default("192.0.2.1"),
  helo: z.string().trim().max(253).default("client.example"),
  headerFrom: z.string().trim().max(320).optional(),
  spf: result,
  dkim: result,
  dmarc: result,
  size: z.coerce
    .number()
    .int()
    .min(0)
    .max(1 << 30)
    .default(1000),
});
