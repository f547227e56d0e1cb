/**
 * Public, unauthenticated files mail software fetches by host name:
 *   https://mta-sts.<domain>/.well-known/mta-sts.txt                 MTA-STS policy (RFC 8461)
 *   https://autoconfig.<domain>/mail/config-v1.1.xml                 Thunderbird autoconfig
 *   /.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a@d    the same, by address
 *   /mail/mobileconfig?emailaddress=a@d                              Apple configuration profile
 * Only domains in the directory get answers; the rest is 404.
 */
import { type Context, Hono } from "hono";
import { formatAddress, parseAddress } from "../../src/address.ts";
import { appleMobileconfig, thunderbirdAutoconfig } from "../../src/admin/client-config.ts";
import { domainSettings } from "../../src/admin/domain-settings.ts";
import { mtaStsPolicy } from "../../src/admin/mta-sts.ts";
import { StoreError } from "../../src/store/index.ts";
import type { EdgeContext } from "../context.ts";

function hostOf(c: Context): string {
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  return host.replace(/:\d+$/, "").toLowerCase().replace(/\.$/, "");
}

export function wellKnownRoutes(ctx: EdgeContext): Hono {
  const app = new Hono();
  const notFound = (c: Context) => c.text("not found\n", 404);
  const domainNamed = async (name: string) => {
    try {
      return await ctx.store.directory.getDomain(name);
    } catch (err) {
      if (err instanceof StoreError) return null;
      throw err;
    }
  };

  app.get("/.well-known/mta-sts.txt", async (c) => {
    const host = hostOf(c);
    if (!host.startsWith("mta-sts.")) return notFound(c);
    const domain = await domainNamed(host.slice("mta-sts.".length));
    if (!domain) return notFound(c);
    return c.text(mtaStsPolicy(domainSettings(domain.settings), ctx.mailService), 200, {
      "cache-control": "max-age=300",
    });
  });

  const autoconfig = async (c: Context) => {
    const email = c.req.query("emailaddress");
    let name: string | null = null;
    if (email) name = parseAddress(email)?.domain ?? null;
    else if (hostOf(c).startsWith("autoconfig.")) name = hostOf(c).slice("autoconfig.".length);
    // https://<domain>/.well-known/autoconfig/… when the domain itself points at the edge.
    else name = hostOf(c);
    const domain = name ? await domainNamed(name) : null;
    if (!domain) return notFound(c);
    return c.body(thunderbirdAutoconfig(domain.name, ctx.mailService), 200, {
      "content-type": "application/xml; charset=utf-8",
    });
  };
  app.get("/mail/config-v1.1.xml", autoconfig);
  app.get("/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig);

  app.get("/mail/mobileconfig", async (c) => {
    const parsed = parseAddress(c.req.query("emailaddress") ?? "");
    const domain = parsed ? await domainNamed(parsed.domain) : null;
    if (!parsed || !domain) return notFound(c);
    // Whether the user exists is not revealed: the profile holds no secret, only host names and ports.
    const address = formatAddress(parsed);
    return c.body(await appleMobileconfig(address, ctx.mailService), 200, {
      "content-type": "application/x-apple-aspen-config",
      "content-disposition": `attachment; filename="${address.replace(/[^\w.@+-]/g, "_")}.mobileconfig"`,
    });
  });

  return app;
}
