/**
 * The authenticate stage as the pipeline sees it: strip forged Authentication-Results, run the checks,
 * and say what the default policy would do. Rules decide first; when none decides, the pipeline applies:
 *   DMARC fail + p=reject      → 550 5.7.1 at the end of DATA
 *   DMARC fail + p=quarantine  → delivered to Junk
 * A temporary DNS failure is decided here: 451 4.4.3 when onTempError = "tempfail", else recorded.
 */
import type { SmtpReply, Transaction } from "../contract.ts";
import type { DnsResolver } from "../dns/resolver.ts";
import { stripForgedAuthResults, withSmtpAuth } from "./auth-headers.ts";
import { type AuthResults, authenticateMessage } from "./authenticate.ts";

export interface AuthPolicy {
  resolver: DnsResolver;
  onTempError: "tempfail" | "accept";
  enforceDmarc: boolean;
}

export type AuthStageOutcome =
  | {
      kind: "checked";
      /** The message without forged Authentication-Results fields. */
      raw: Uint8Array;
      results: AuthResults | null;
      /** Header fields to prepend (Received-SPF, Authentication-Results), CRLF-terminated. */
      headers: string;
      /** What DMARC asks for when no rule decides otherwise. */
      dmarc: { action: "reject"; reply: SmtpReply } | { action: "quarantine" } | null;
    }
  | { kind: "refused"; reply: SmtpReply; results: AuthResults };

export async function runAuthStage(
  raw: Uint8Array,
  tx: Transaction,
  authservId: string,
  policy: AuthPolicy | undefined,
): Promise<AuthStageOutcome> {
  const cleaned = stripForgedAuthResults(raw, authservId).raw;
  const user = tx.session.user;
  if (!policy) {
    const headers = user ? withSmtpAuth("", authservId, user) : "";
    return { kind: "checked", raw: cleaned, results: null, headers, dmarc: null };
  }
  // DKIM and ARC verify the message as the sender sent it, before anything is removed.
  const { results, headers } = await authenticateMessage({
    raw,
    clientIp: tx.session.connection.client.address,
    helo: tx.session.helo,
    mailFrom: tx.mailFrom,
    authservId,
    resolver: policy.resolver,
  });
  if (results.tempError && policy.onTempError === "tempfail") {
    return {
      kind: "refused",
      results,
      reply: {
        code: 451,
        enhanced: "4.4.3",
        message: "Temporary DNS failure while authenticating, please retry",
      },
    };
  }
  const failed = policy.enforceDmarc && results.dmarc?.result === "fail" ? results.dmarc : null;
  const dmarc =
    failed?.policy === "reject"
      ? {
          action: "reject" as const,
          reply: {
            code: 550,
            enhanced: "5.7.1",
            message: `Rejected by the DMARC policy of ${failed.domain ?? "the From domain"}`,
          },
        }
      : failed?.policy === "quarantine"
        ? { action: "quarantine" as const }
        : null;
  return {
    kind: "checked",
    raw: cleaned,
    results,
    headers: user ? withSmtpAuth(headers, authservId, user) : headers,
    dmarc,
  };
}
