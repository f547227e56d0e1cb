/** Sign-in: an admin or domain token, or a mailbox user's address and password. */
import { BASE } from "../components.ts";
import { h, type Node } from "../h.ts";
import { shell } from "../layout.ts";

export function signInPage(token: string, error: string | null, notice: string | null = null): Node {
  const hidden = h("input", { type: "hidden", name: "_csrf", value: token });
  return shell("Sign in", [
    h(
      "main",
      { id: "main", class: "signin" },
      h("h1", null, "mxedge"),
      error ? h("p", { class: "error", role: "alert" }, error) : null,
      notice ? h("p", { class: "notice", role: "status" }, notice) : null,
      h(
        "form",
        { method: "post", action: `${BASE}/sign-in`, class: "stack", "aria-labelledby": "with-token" },
        h("h2", { id: "with-token" }, "Administrators"),
        hidden,
        h("input", { type: "hidden", name: "kind", value: "token" }),
        h(
          "label",
          null,
          "Admin token or domain token",
          h("input", { type: "password", name: "token", required: true, autocomplete: "current-password" }),
        ),
        h("button", { type: "submit" }, "Sign in"),
      ),
      h(
        "form",
        { method: "post", action: `${BASE}/sign-in`, class: "stack", "aria-labelledby": "as-user" },
        h("h2", { id: "as-user" }, "Mailbox users"),
        hidden,
        h("input", { type: "hidden", name: "kind", value: "user" }),
        h(
          "label",
          null,
          "Email address",
          h("input", { type: "email", name: "address", required: true, autocomplete: "username" }),
        ),
        h(
          "label",
          null,
          "Password",
          h("input", {
            type: "password",
            name: "password",
            required: true,
            autocomplete: "current-password",
          }),
        ),
        h("button", { type: "submit" }, "Sign in"),
      ),
    ),
  ]);
}
