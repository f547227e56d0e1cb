/** Users and aliases: create, change password, delete; aliases with their targets. */
import { need, seg } from "../api.ts";
import {
  actionButton,
  BASE,
  field,
  type PageContext,
  postForm,
  status,
  submit,
  table,
} from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

interface User {
  login: string;
  disabled: boolean;
}
interface Alias {
  address: string;
  kind: "alias" | "discard";
  targets: string[];
}

export async function usersPage(pc: PageContext): Promise<Node> {
  const [users, aliases] = await Promise.all([
    pc.api.get<{ users: User[] }>("/users"),
    pc.api.get<{ aliases: Alias[] }>("/aliases"),
  ]);
  const hint = pc.principal.kind === "domain" ? `someone@${pc.principal.domain}` : "someone@example.com";
  return layout(pc, "Users & aliases", [
    h("h2", { id: "users" }, "Users"),
    postForm(
      pc,
      `${BASE}/users`,
      { label: "Add a user" },
      field("Address", "address", { required: true, placeholder: hint, autocomplete: "off" }),
      field("Password", "password", {
        type: "password",
        required: true,
        minlength: "8",
        autocomplete: "new-password",
      }),
      submit("Add user"),
    ),
    table(
      "Users",
      ["login", "state", "password", ""],
      need(users).users.map((u) => [
        u.login,
        u.disabled ? status("DISABLED", "warn") : status("ACTIVE", "ok"),
        h(
          "details",
          null,
          h("summary", null, "Change"),
          postForm(
            pc,
            `${BASE}/users/${seg(u.login)}/password`,
            { label: `New password for ${u.login}` },
            field("New password", "password", {
              type: "password",
              required: true,
              minlength: "8",
              autocomplete: "new-password",
            }),
            submit("Set password"),
          ),
        ),
        actionButton(pc, `${BASE}/users/${seg(u.login)}/delete`, "Delete", {
          danger: true,
          confirm: `Delete ${u.login} and all their mail?`,
          label: `Delete ${u.login}`,
        }),
      ]),
      "No users yet.",
    ),
    h("h2", { id: "aliases" }, "Aliases"),
    h(
      "p",
      { class: "muted" },
      "An alias delivers to local addresses; *@domain is the catch-all; a discard address accepts and drops.",
    ),
    postForm(
      pc,
      `${BASE}/aliases`,
      { label: "Add an alias" },
      field("Alias address", "address", { required: true, placeholder: hint.replace("someone", "sales") }),
      field("Delivers to (comma-separated)", "targets", { placeholder: hint }),
      h("label", null, h("input", { type: "checkbox", name: "discard" }), " Discard instead"),
      submit("Add alias"),
    ),
    table(
      "Aliases",
      ["address", "delivers to", ""],
      need(aliases).aliases.map((a) => [
        a.address,
        a.kind === "discard" ? status("DISCARD", "warn") : a.targets.join(", "),
        actionButton(pc, `${BASE}/aliases/${seg(a.address)}/delete`, "Delete", {
          danger: true,
          confirm: `Delete alias ${a.address}?`,
          label: `Delete alias ${a.address}`,
        }),
      ]),
      "No aliases yet.",
    ),
  ]);
}
