/** Route stage: envelope recipients → the mailboxes that receive a copy. */
import type { SmtpReply } from "../contract.ts";
import type { RecipientResolution } from "../store/directory.ts";
import type { Store } from "../store/index.ts";

export type RouteResult =
  | { kind: "routed"; userIds: number[]; mailboxIds: number[] }
  | { kind: "refused"; reply: SmtpReply };

/** The SMTP answer for one recipient at RCPT time (unauthenticated, inbound). */
export function recipientReply(r: RecipientResolution, authenticated: boolean): SmtpReply {
  switch (r.status) {
    case "local":
    case "discard":
      return { code: 250, enhanced: "2.1.5", message: `Recipient <${r.address}> OK` };
    case "unknown-user":
      return { code: 550, enhanced: "5.1.1", message: `Recipient <${r.address}> does not exist here` };
    case "invalid":
      return { code: 501, enhanced: "5.1.3", message: "Bad recipient address syntax" };
    case "not-local":
      return authenticated
        ? { code: 550, enhanced: "5.7.1", message: "Outbound delivery is not enabled on this server" }
        : { code: 554, enhanced: "5.7.1", message: `Relay access denied for <${r.address}>` };
  }
}

export async function routeRecipients(store: Store, rcptTo: string[]): Promise<RouteResult> {
  const userIds = new Set<number>();
  let deliverable = 0;
  for (const rcpt of rcptTo) {
    const r = await store.directory.resolveRecipient(rcpt);
    if (r.status === "local") for (const id of r.userIds) userIds.add(id);
    if (r.status === "local" || r.status === "discard") deliverable++;
  }
  if (deliverable === 0) {
    return { kind: "refused", reply: { code: 550, enhanced: "5.1.1", message: "No valid recipients" } };
  }
  return { kind: "routed", userIds: [...userIds], mailboxIds: await store.directory.inboxes([...userIds]) };
}
