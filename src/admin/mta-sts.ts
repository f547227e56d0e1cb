/** The MTA-STS policy (RFC 8461) served at https://mta-sts.<domain>/.well-known/mta-sts.txt, and its id. */
import type { DomainSettings } from "./domain-settings.ts";
import type { MailService } from "./mail-service.ts";

export function mtaStsPolicy(settings: DomainSettings, service: MailService): string {
  const lines = ["version: STSv1", `mode: ${settings.mtaSts.mode}`];
  if (settings.mtaSts.mode !== "none") lines.push(`mx: ${service.mailHost}`);
  lines.push(`max_age: ${settings.mtaSts.maxAge}`);
  // RFC 8461 §3.2: lines end with CRLF.
  return `${lines.join("\r\n")}\r\n`;
}

/**
 * The `id=` of the _mta-sts TXT record: derived from the policy text, so it changes exactly when the
 * policy does (senders refetch the policy when the id changes).
 */
export async function mtaStsId(policy: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(policy)));
  return Array.from(digest.subarray(0, 10), (b) => b.toString(16).padStart(2, "0")).join("");
}
