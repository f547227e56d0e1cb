/**
 * Synchronous webhook routes: the SMTP answer waits for the app.
 *   2xx                             → go on (250 once stored, or at once with store = false)
 *   406, or JSON {"reject": "text"} → 550 5.7.1 text
 *   any other answer, a timeout or a connection error → 451 4.3.0, so the sender retries and nothing is lost
 */
import type { SmtpReply } from "../contract.ts";
import type { Endpoint } from "../store/webhooks.ts";
import { type PostDeps, postSigned } from "./post.ts";

export type SyncVerdict = { kind: "accept" } | { kind: "refuse"; reply: SmtpReply; reason: string };

function rejectText(snippet: string | null): string | null {
  if (!snippet) return null;
  try {
    const body = JSON.parse(snippet) as { reject?: unknown };
    return typeof body.reject === "string" && body.reject.trim() !== ""
      ? body.reject.replace(/[\r\n]+/g, " ").slice(0, 400)
      : null;
  } catch {
    return null;
  }
}

export async function callSyncWebhooks(
  endpoints: Endpoint[],
  webhookId: string,
  request: (e: Endpoint) => Promise<{ body: Uint8Array; headers: Record<string, string> }>,
  deps: PostDeps,
): Promise<SyncVerdict> {
  for (const endpoint of endpoints) {
    const { body, headers } = await request(endpoint);
    const r = await postSigned(endpoint, webhookId, body, headers, {
      ...deps,
      timeoutMs: endpoint.filters.timeoutMs ?? 10_000,
    });
    const text = rejectText(r.snippet);
    if (r.status === 406 || (r.status !== null && r.status < 300 && text !== null)) {
      return {
        kind: "refuse",
        reply: { code: 550, enhanced: "5.7.1", message: text ?? "Rejected by the recipient's application" },
        reason: `${endpoint.name} rejected (${r.status})`,
      };
    }
    if (r.status === null || r.status < 200 || r.status >= 300) {
      return {
        kind: "refuse",
        reply: { code: 451, enhanced: "4.3.0", message: "Temporary failure, please retry" },
        reason: `${endpoint.name}: ${r.error ?? `answered ${r.status}`}`,
      };
    }
  }
  return { kind: "accept" };
}
