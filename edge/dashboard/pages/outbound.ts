/**
 * The outbound queue, when this edge has one (issue 19): each queued message with its attempts, retry
 * and delete. It reads GET /api/outbound; until the outbound queue exists the API has no such route,
 * the navigation hides this page, and it says so. Hook for the outbound branch: the API answers
 * { queue: OutboundItem[] } and takes POST /api/outbound/:id/retry and DELETE /api/outbound/:id.
 */
import { seg } from "../api.ts";
import { actionButton, BASE, type PageContext, status, table, time } from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

export interface OutboundItem {
  id: string;
  from: string;
  to: string;
  state: string;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
}

/** True when this edge's API has the outbound queue (feature detection, no configuration). */
export async function hasOutbound(pc: Pick<PageContext, "api">): Promise<boolean> {
  return (await pc.api.get<unknown>("/outbound?limit=1")).status !== 404;
}

export async function outboundPage(pc: PageContext): Promise<Node> {
  const answer = await pc.api.get<{ queue: OutboundItem[] }>("/outbound");
  if (answer.status === 404)
    return layout(pc, "Outbound queue", [
      h("p", null, "This edge has no outbound queue (it arrives with outbound delivery)."),
    ]);
  const queue = answer.ok ? answer.body.queue : [];
  return layout(pc, "Outbound queue", [
    answer.ok ? null : h("p", { class: "error", role: "alert" }, answer.error),
    table(
      "Outbound queue",
      ["to", "from", "state", "attempts", "next attempt", "last error", ""],
      queue.map((q) => [
        q.to,
        q.from,
        status(
          q.state.toUpperCase(),
          q.state === "delivered" ? "ok" : q.state === "bounced" ? "bad" : "warn",
        ),
        String(q.attempts),
        time(q.nextAttemptAt),
        h("span", { class: "wrap" }, q.lastError ?? ""),
        h(
          "span",
          null,
          actionButton(pc, `${BASE}/outbound/${seg(q.id)}/retry`, "Retry now", {
            label: `Retry now: ${q.id}`,
          }),
          " ",
          actionButton(pc, `${BASE}/outbound/${seg(q.id)}/delete`, "Delete", {
            danger: true,
            confirm: "Delete this message from the queue? It will not be sent.",
            label: `Delete ${q.id}`,
          }),
        ),
      ]),
      "The queue is empty.",
    ),
  ]);
}
