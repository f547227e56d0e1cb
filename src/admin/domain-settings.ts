/**
 * Per-domain settings kept in `domains.settings` (JSON): MTA-STS mode, DMARC policy and report address,
 * TLS-RPT report address. Absent fields take the defaults below, so old rows stay valid.
 */
import { z } from "zod";

export const MtaStsModes = ["enforce", "testing", "none"] as const;
export const DmarcPolicies = ["none", "quarantine", "reject"] as const;

const mailto = z
  .string()
  .regex(/^mailto:[^\s@,;!]+@[^\s@,;!]+$/, "expected mailto:address")
  .max(320);

export const DomainSettingsSchema = z.strictObject({
  mtaSts: z
    .strictObject({
      /** testing: senders report failures but deliver; enforce: senders refuse mail over failed TLS. */
      mode: z.enum(MtaStsModes).default("testing"),
      /** Policy lifetime in seconds (RFC 8461 §3.2: at most 31557600). */
      maxAge: z.number().int().min(86_400).max(31_557_600).default(604_800),
    })
    .prefault({}),
  dmarc: z
    .strictObject({
      policy: z.enum(DmarcPolicies).default("none"),
      /** Aggregate report address; default postmaster@<domain>. */
      rua: mailto.optional(),
    })
    .prefault({}),
  tlsRpt: z.strictObject({ rua: mailto.optional() }).prefault({}),
});
export type DomainSettings = z.infer<typeof DomainSettingsSchema>;

/** The settings with defaults filled in; unknown or broken stored values fall back to the defaults. */
export function domainSettings(stored: unknown): DomainSettings {
  const parsed = DomainSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : DomainSettingsSchema.parse({});
}
