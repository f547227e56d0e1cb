/**
 * A mailbox user's own pages: their messages with the verdicts, and their account (password). Their
 * forwarding and spam settings join the account page when those stages exist (issues 20 and 22).
 */
import { BASE, field, type PageContext, postForm, submit } from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";
import { messageSearch } from "./messages.ts";

export async function myMessagesPage(pc: PageContext): Promise<Node> {
  return layout(pc, "My messages", await messageSearch(pc, "/me/messages", `${BASE}/me`));
}

export function accountPage(pc: PageContext): Node {
  return layout(pc, "Account", [
    h("h2", null, "Password"),
    postForm(
      pc,
      `${BASE}/me/password`,
      { class: "stack", label: "Change your password" },
      field("Current password", "current", {
        type: "password",
        required: true,
        autocomplete: "current-password",
      }),
      field("New password", "password", {
        type: "password",
        required: true,
        minlength: "8",
        autocomplete: "new-password",
      }),
      submit("Change password"),
    ),
  ]);
}
