/** The dashboard's GET routes: one page module each (pages/), rendered with the signed-in principal. */
import type { Context, Hono } from "hono";
import { ApiRefusal, seg } from "./api.ts";
import { BASE } from "./components.ts";
import type { Kit } from "./index.ts";
import { domainPage } from "./pages/domain.ts";
import { domainsPage } from "./pages/domains.ts";
import { messagePage } from "./pages/message.ts";
import { messagesPage } from "./pages/messages.ts";
import { outboundPage } from "./pages/outbound.ts";
import { overviewPage } from "./pages/overview.ts";
import { rulesPage } from "./pages/rules.ts";
import { tokensPage } from "./pages/tokens.ts";
import { usersPage } from "./pages/users.ts";
import { webhooksPage } from "./pages/webhooks.ts";

export function registerPages(app: Hono, kit: Kit): void {
  const forUsersGoHome = (c: Context, render: Parameters<Kit["page"]>[1]) =>
    kit.page(c, async (pc) => {
      if (pc.principal.kind === "user") throw new ApiRefusal(403, "This page is for administrators.");
      return render(pc);
    });

  app.get("/", async (c) => {
    const pc = await kit.pageContext(c);
    if (pc.principal.kind === "user") return c.redirect(`${BASE}/me`, 303);
    return kit.page(c, overviewPage);
  });
  app.get("/domains", async (c) => {
    const pc = await kit.pageContext(c);
    // A domain admin has one domain: its page is their domains page.
    if (pc.principal.kind === "domain") return c.redirect(`${BASE}/domains/${seg(pc.principal.domain)}`, 303);
    return forUsersGoHome(c, domainsPage);
  });
  app.get("/domains/:domain", (c) => kit.page(c, (pc) => domainPage(pc, c.req.param("domain"))));
  app.get("/users", (c) => forUsersGoHome(c, usersPage));
  app.get("/rules", (c) => kit.page(c, (pc) => rulesPage(pc)));
  app.get("/messages", (c) => forUsersGoHome(c, messagesPage));
  app.get("/messages/:id", (c) =>
    kit.page(c, (pc) => messagePage(pc, c.req.param("id"), "/messages", `${BASE}/messages`)),
  );
  app.get("/webhooks", (c) => forUsersGoHome(c, (pc) => webhooksPage(pc)));
  app.get("/outbound", (c) => forUsersGoHome(c, outboundPage));
  app.get("/tokens", (c) => kit.page(c, (pc) => tokensPage(pc)));
  app.get("/me/:id", (c) =>
    kit.page(c, (pc) => messagePage(pc, c.req.param("id"), "/me/messages", `${BASE}/me`)),
  );

  const raw = (apiBase: string) => async (c: Context) => {
    const pc = await kit.pageContext(c);
    const id = c.req.param("id") ?? "";
    const res = await pc.api.raw(`${apiBase}/${seg(id)}/raw`);
    if (!res.ok) {
      return kit.page(c, () => {
        throw new ApiRefusal(res.status, "no such message");
      });
    }
    return new Response(res.body, {
      headers: {
        "content-type": "message/rfc822",
        "content-disposition": res.headers.get("content-disposition") ?? "attachment",
      },
    });
  };
  app.get("/messages/:id/raw", raw("/messages"));
  app.get("/me/:id/raw", raw("/me/messages"));
}
