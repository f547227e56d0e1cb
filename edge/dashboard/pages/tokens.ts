/** API tokens scoped to one domain (admin only): make one (shown once), revoke. */
import type { ApiTokenInfo } from "../../../src/store/access.ts";
import { need } from "../api.ts";
import {
  actionButton,
  BASE,
  field,
  type PageContext,
  postForm,
  select,
  submit,
  table,
  time,
} from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

export async function tokensPage(pc: PageContext, created?: ApiTokenInfo & { token: string }): Promise<Node> {
  const [tokens, domains] = await Promise.all([
    pc.api.get<{ tokens: ApiTokenInfo[] }>("/tokens"),
    pc.api.get<{ domains: Array<{ name: string }> }>("/domains"),
  ]);
  const names = need(domains).domains.map((d) => d.name);
  return layout(pc, "API tokens", [
    h(
      "p",
      { class: "muted" },
      "A domain token lets its holder use the API (Authorization: Bearer …) and sign in here, for that domain only.",
    ),
    created
      ? h(
          "div",
          { class: "notice", role: "status" },
          `Token ${created.name} for ${created.domain}, shown only now: `,
          h("code", { class: "wrap", id: "new-token" }, created.token),
        )
      : null,
    names.length === 0
      ? h("p", null, "Add a domain first.")
      : postForm(
          pc,
          `${BASE}/tokens`,
          { label: "Make a domain token" },
          field("Name", "name", { required: true, placeholder: "who or what uses it" }),
          select("Domain", "domain", names, names[0]),
          submit("Make token"),
        ),
    table(
      "Domain tokens",
      ["name", "domain", "made", "last used", ""],
      need(tokens).tokens.map((t) => [
        t.name,
        t.domain,
        time(t.createdAt),
        time(t.lastUsedAt),
        actionButton(pc, `${BASE}/tokens/${t.id}/delete`, "Revoke", {
          danger: true,
          confirm: `Revoke ${t.name}? Its sessions end too.`,
          label: `Revoke ${t.name}`,
        }),
      ]),
      "No domain tokens.",
    ),
  ]);
}
