/** Domains: the list (and, for the admin, adding one). */
import { need, seg } from "../api.ts";
import { BASE, field, type PageContext, postForm, submit, table } from "../components.ts";
import { h, type Node } from "../h.ts";
import { layout } from "../layout.ts";

export async function domainsPage(pc: PageContext): Promise<Node> {
  const { domains } = need(
    await pc.api.get<{ domains: Array<{ name: string; plusAddressing: boolean }> }>("/domains"),
  );
  return layout(pc, "Domains", [
    pc.principal.kind === "admin"
      ? postForm(
          pc,
          `${BASE}/domains`,
          { label: "Add a domain" },
          field("Domain name", "name", { required: true, placeholder: "example.com", autocomplete: "off" }),
          submit("Add domain"),
        )
      : null,
    table(
      "Domains",
      ["domain", "plus addressing"],
      domains.map((d) => [
        h("a", { href: `${BASE}/domains/${seg(d.name)}` }, d.name),
        d.plusAddressing ? "on" : "off",
      ]),
      "No domains yet.",
    ),
  ]);
}
