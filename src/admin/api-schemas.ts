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

export const MessageListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export interface FieldIssue {
  path: string;
  message: string;
}

/** The body of every 400: one entry per wrong field. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}
