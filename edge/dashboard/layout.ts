/** The page shell: head, the navigation for the signed-in principal, messages, and the content. */
import { describePrincipal } from "../../src/admin/principal.ts";
import { BASE, csrfField, type PageContext } from "./components.ts";
import { type Child, h, type Node } from "./h.ts";

function navItems(pc: PageContext): Array<[string, string]> {
  const p = pc.principal;
  if (p.kind === "user")
    return [
      [`${BASE}/me`, "My messages"],
      [`${BASE}/me/account`, "Account"],
    ];
  const items: Array<[string, string]> = [[BASE, "Overview"]];
  items.push(
    p.kind === "domain"
      ? [`${BASE}/domains/${encodeURIComponent(p.domain)}`, "Domain"]
      : [`${BASE}/domains`, "Domains"],
    [`${BASE}/users`, "Users & aliases"],
  );
  if (p.kind === "admin") items.push([`${BASE}/rules`, "Rules"]);
  items.push([`${BASE}/messages`, "Messages"], [`${BASE}/webhooks`, "Webhooks"]);
  if (pc.features.outbound) items.push([`${BASE}/outbound`, "Outbound"]);
  if (p.kind === "admin") items.push([`${BASE}/tokens`, "Tokens"]);
  return items;
}

export function shell(title: string, body: Child[], opts: { scripts?: string[] } = {}): Node {
  return h(
    "html",
    { lang: "en" },
    h(
      "head",
      null,
      h("meta", { charset: "utf-8" }),
      h("meta", { name: "viewport", content: "width=device-width, initial-scale=1" }),
      h("meta", { name: "referrer", content: "no-referrer" }),
      h("title", null, `${title} · mxedge`),
      h("link", { rel: "stylesheet", href: `${BASE}/assets/style.css` }),
      ...(opts.scripts ?? []).map((s) => h("script", { src: `${BASE}/assets/${s}`, defer: true })),
    ),
    h("body", null, ...body),
  );
}

export function layout(
  pc: PageContext,
  title: string,
  content: Child[],
  opts: { plot?: boolean } = {},
): Node {
  const current = (href: string) =>
    pc.path === href || (href !== BASE && pc.path.startsWith(`${href}/`)) ? "page" : undefined;
  const header = h(
    "header",
    { class: "top" },
    h("a", { class: "skip", href: "#main" }, "Skip to content"),
    h("a", { class: "brand", href: BASE }, "mxedge"),
    h(
      "nav",
      { "aria-label": "Dashboard" },
      h(
        "ul",
        null,
        ...navItems(pc).map(([href, text]) =>
          h("li", null, h("a", { href, "aria-current": current(href) }, text)),
        ),
      ),
    ),
    h(
      "div",
      { class: "who" },
      h("span", null, describePrincipal(pc.principal)),
      h(
        "form",
        { method: "post", action: `${BASE}/sign-out`, class: "inline" },
        csrfField(pc),
        h("button", { type: "submit" }, "Sign out"),
      ),
    ),
  );
  const main = h(
    "main",
    { id: "main" },
    h("h1", null, title),
    pc.notice ? h("p", { class: "notice", role: "status" }, pc.notice) : null,
    pc.error ? h("p", { class: "error", role: "alert" }, pc.error) : null,
    ...content,
  );
  const scripts = opts.plot ? ["uplot.js", "dashboard.js"] : ["dashboard.js"];
  return shell(title, [header, main], { scripts });
}
