/**
 * The dashboard renders in workerd (the Worker bundle wrangler deploys, on D1): sign in with the admin
 * token over HTTPS (a __Host- cookie, Secure, HttpOnly, SameSite=Strict), then the overview, a domain's
 * DNS table and the message search render, and the assets are served by the Worker itself.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const BASE = "https://edge.test";
const get = (path: string, cookie = "") =>
  exports.default.fetch(new Request(`${BASE}${path}`, { headers: cookie ? { cookie } : {} }));

describe("dashboard on workerd + D1", () => {
  it("signs in and renders its pages", async () => {
    const form = await get("/dashboard/sign-in");
    expect(form.status).toBe(200);
    const pre = /__Host-mxedge_signin=([^;]+)/.exec(form.headers.getSetCookie().join("\n"))?.[1] ?? "";
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
    const signIn = await exports.default.fetch(
      new Request(`${BASE}/dashboard/sign-in`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          cookie: `__Host-mxedge_signin=${pre}`,
          origin: BASE,
          "cf-connecting-ip": "192.0.2.44",
        },
        body: new URLSearchParams({ _csrf: csrf, kind: "token", token: env.ADMIN_TOKEN }).toString(),
        redirect: "manual",
      }),
    );
    expect(signIn.status).toBe(303);
    const set = signIn.headers.getSetCookie().find((c) => c.startsWith("__Host-mxedge_session=")) ?? "";
    expect(set).toMatch(/; Secure/i);
    expect(set).toMatch(/; HttpOnly/i);
    expect(set).toMatch(/; SameSite=Strict/i);
    const cookie = set.split(";")[0] as string;

    const add = await exports.default.fetch(
      new Request(`${BASE}/api/domains`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "dash.test" }),
      }),
    );
    expect(add.status).toBe(201);
    for (const [path, text] of [
      ["/dashboard", "Mail per hour"],
      ["/dashboard/domains/dash.test", "DNS records for dash.test"],
      ["/dashboard/messages", "Search messages"],
    ] as const) {
      const res = await get(path, cookie);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-security-policy"), path).toContain("script-src 'self'");
      expect(await res.text(), path).toContain(text);
    }
    const uplot = await get("/dashboard/assets/uplot.js");
    expect(uplot.headers.get("content-type")).toContain("javascript");
    expect(await uplot.text()).toContain("uPlot");
  });
});
