/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (no browser download),
 * against a real `mxedge serve` with a zone file, real SMTP (Python smtplib) and a real webhook
 * receiver. Sign in; add a domain and read its live DNS table (OK and MISSING rows); find a
 * DMARC-failing message with its verdict; redeliver a failed webhook and see the new attempt; sign in
 * with a domain token and fail to open another domain's page or message. axe-core runs in every page
 * (no serious or critical violations), and screenshots land in test-results/dashboard/.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newWebhookSecret } from "../../src/webhooks/sign.ts";
import { ROOT, type RunningMxedge, smtpSend, startMxedge } from "./harness.ts";
import { requireTools } from "./tools.ts";

const CHROMIUM = "/usr/bin/chromium";
const enabled = requireTools("chromium", "python3");
const ARTIFACTS = join(ROOT, "test-results/dashboard");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

describe.runIf(enabled)("dashboard in chromium", () => {
  let mx: RunningMxedge;
  let browser: Browser;
  let page: Page;
  let receiver: Server;
  let receiverStatus = 500;
  let base = "";
  const consoleErrors: string[] = [];
  const checkedPages: string[] = [];

  /** axe-core in the page as loaded (evaluated over CDP: the page's CSP stays on). */
  async function axe(label: string): Promise<void> {
    await page.evaluate(AXE);
    const violations = (await page.evaluate(async () => {
      const run = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe.run;
      return (await run()).violations;
    })) as AxeViolation[];
    const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(
      bad.map(
        (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
      ),
      label,
    ).toEqual([]);
    checkedPages.push(label);
  }

  async function signIn(token: string): Promise<void> {
    await page.goto(`${base}/dashboard`);
    expect(page.url()).toContain("/dashboard/sign-in");
    await axe("sign-in");
    await page.getByLabel("Admin token or domain token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).first().click();
    await page.waitForURL(/\/dashboard(\/domains\/[^/]+)?$/);
  }

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(receiverStatus).end(receiverStatus === 200 ? "thanks" : "not today"));
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const hookPort = (receiver.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), "mxedge-dashboard-"));
    // shop.test publishes its MX and SPF (OK), a DMARC record that differs, nothing else (MISSING);
    // bank.test's SPF fails for 127.0.0.1 and its DMARC policy is none, so its mail is stored with dmarc=fail.
    writeFileSync(
      join(dir, "zone"),
      [
        "$ORIGIN test.",
        "shop        MX 10 mx.e2e.test.",
        'shop        TXT "v=spf1 mx -all"',
        '_dmarc.shop TXT "v=DMARC1; p=reject"',
        'bank        TXT "v=spf1 -all"',
        '_dmarc.bank TXT "v=DMARC1; p=none"',
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "mxedge.toml"),
      `webhookAllow = ["127.0.0.0/8"]
webhookRetry = { maxAttempts = 1 }

[[webhooks]]
name = "crm"
url = "http://127.0.0.1:${hookPort}/mail"
secret = "${newWebhookSecret()}"
`,
    );
    mx = await startMxedge({
      args: ["--config", join(dir, "mxedge.toml")],
      env: { MXEDGE_DNS_ZONE: join(dir, "zone") },
    });
    base = `http://127.0.0.1:${mx.ports.http}`;
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Script errors and CSP violations; the 403/404 answers this test asks for are expected.
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of 40[34]/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await mx?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
  });

  it("signs in with the admin token and shows the overview", async () => {
    await signIn(mx.adminToken);
    await expect(page.getByRole("heading", { level: 1, name: "Overview" }).isVisible()).resolves.toBe(true);
    await axe("overview (empty)");
  });

  it("adds a domain and shows its DNS records checked live: some OK, some MISSING", async () => {
    await page.getByRole("link", { name: "Domains" }).click();
    await page.getByLabel("Domain name").fill("shop.test");
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.waitForURL(/\/dashboard\/domains\/shop\.test/);
    const table = page.getByRole("region", { name: "DNS records for shop.test" });
    const row = (purpose: string) => table.getByRole("row").filter({ hasText: purpose }).first();
    await expect(row("MX").textContent()).resolves.toMatch(/^OK/);
    await expect(row("SPF").textContent()).resolves.toMatch(/^OK/);
    await expect(row("DMARC").textContent()).resolves.toMatch(/^DIFFERENT.*p=reject/);
    await expect(row("TLS-RPT").textContent()).resolves.toMatch(/^MISSING/);
    await expect(row("autoconfig host").textContent()).resolves.toMatch(/^MISSING/);
    await axe("domain");
    await page.getByRole("button", { name: "Generate key" }).click();
    await expect(page.getByRole("status").textContent()).resolves.toContain("DKIM key generated");
    await expect(
      page.getByRole("region", { name: "DKIM keys of shop.test" }).textContent(),
    ).resolves.toContain("ACTIVE");
  });

  it("adds a user and an alias through the forms", async () => {
    await page.getByRole("link", { name: "Users & aliases" }).click();
    await page.getByLabel("Address", { exact: true }).fill("ann@shop.test");
    await page.getByLabel("Password", { exact: true }).fill("ann's long password");
    await page.getByRole("button", { name: "Add user" }).click();
    await expect(page.getByRole("status").textContent()).resolves.toContain("User ann@shop.test added");
    await page.getByLabel("Alias address").fill("sales@shop.test");
    await page.getByLabel("Delivers to (comma-separated)").fill("ann@shop.test");
    await page.getByRole("button", { name: "Add alias" }).click();
    await expect(page.getByRole("region", { name: "Aliases" }).textContent()).resolves.toContain(
      "sales@shop.test",
    );
    await axe("users");
  });

  it("finds a DMARC-failing message with its verdict", async () => {
    const sent = await smtpSend(
      "plain",
      mx.ports.smtp,
      "alice@bank.test",
      "ann@shop.test",
      "Invoice overdue",
    );
    expect(sent.code).toBe(250);
    await page.getByRole("link", { name: "Messages" }).click();
    await page.getByLabel("Verdict").selectOption("dmarc:fail");
    await page.getByRole("button", { name: "Search" }).click();
    const results = page.getByRole("region", { name: "Messages" });
    await expect(results.textContent()).resolves.toContain("Invoice overdue");
    await expect(results.textContent()).resolves.toContain("dmarc fail");
    await axe("messages");
    await page.getByRole("link", { name: "Invoice overdue" }).click();
    const auth = page.getByRole("region", { name: "Authentication results" });
    await expect(auth.getByRole("row", { name: /^DMARC/ }).textContent()).resolves.toMatch(
      /dmarc fail.*policy none for bank\.test/,
    );
    await expect(auth.getByRole("row", { name: /^SPF/ }).textContent()).resolves.toContain("spf fail");
    await expect(page.locator("dl.facts").nth(1).textContent()).resolves.toMatch(/client127\.0\.0\.1:\d+/);
    await axe("message");
    await page.screenshot({ path: join(ARTIFACTS, "message.png"), fullPage: true });
    const download = await page.request.get(
      new URL(
        (await page.getByRole("link", { name: /Download raw source/ }).getAttribute("href")) ?? "",
        base,
      ).href,
    );
    expect(download.headers()["content-type"]).toBe("message/rfc822");
    expect(await download.text()).toMatch(/^Received: .*[\s\S]*Subject: Invoice overdue/);
  });

  it("redelivers a failed webhook and shows the new attempt", async () => {
    const deliveries = page.getByRole("region", { name: "Webhook deliveries" });
    await page.goto(`${base}/dashboard/webhooks`);
    for (let i = 0; i < 50 && !(await deliveries.textContent())?.includes("DEAD"); i++) {
      await new Promise((r) => setTimeout(r, 200));
      await page.reload();
    }
    await expect(deliveries.textContent()).resolves.toContain("1 attempt");
    receiverStatus = 200;
    await deliveries
      .getByRole("button", { name: /^Redeliver/ })
      .first()
      .click();
    await expect(page.getByRole("status").textContent()).resolves.toContain("Queued again");
    for (let i = 0; i < 50 && !(await deliveries.textContent())?.includes("DELIVERED"); i++) {
      await new Promise((r) => setTimeout(r, 200));
      await page.reload();
    }
    await expect(deliveries.textContent()).resolves.toContain("2 attempts");
    await deliveries.getByText("2 attempts").click();
    const attempts = deliveries.getByRole("region", { name: /Attempts of delivery/ });
    await expect(attempts.textContent()).resolves.toMatch(/500[\s\S]*200/);
    await axe("webhooks");
  });

  it("plots mail per hour on the overview, readable on a phone", async () => {
    await page.goto(`${base}/dashboard`);
    await page.locator(".uplot canvas").first().waitFor();
    await expect(page.locator(".cards").textContent()).resolves.toMatch(/1\s*received/);
    await axe("overview");
    await page.screenshot({ path: join(ARTIFACTS, "overview.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of [
      "/dashboard",
      "/dashboard/domains/shop.test",
      "/dashboard/messages",
      "/dashboard/webhooks",
    ]) {
      await page.goto(`${base}${path}`);
      const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      expect(overflow as number, path).toBeLessThanOrEqual(0);
    }
    await page.screenshot({ path: join(ARTIFACTS, "overview-phone.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/dashboard/rules`);
    await axe("rules");
  });

  it("signs in with a domain token that cannot open another domain's page or message", async () => {
    // Another domain with mail of its own.
    expect(
      (await mx.api("/api/domains", { method: "POST", body: JSON.stringify({ name: "other.test" }) })).status,
    ).toBe(201);
    await mx.api("/api/users", {
      method: "POST",
      body: JSON.stringify({ address: "bob@other.test", password: "bob's long password" }),
    });
    expect(
      (await smtpSend("plain", mx.ports.smtp, "carol@remote.test", "bob@other.test", "Bob private")).code,
    ).toBe(250);
    const list = await mx.api<{ messages: Array<{ id: string; subject: string }> }>("/api/messages");
    const bobs = list.body.messages.find((m) => m.subject === "Bob private")?.id ?? "";
    expect(bobs).not.toBe("");

    await page.goto(`${base}/dashboard/tokens`);
    await page.getByLabel("Name").fill("shop helpdesk");
    await page.locator('select[name="domain"]').selectOption("shop.test");
    await page.getByRole("button", { name: "Make token" }).click();
    const token = (await page.locator("#new-token").textContent()) ?? "";
    expect(token).toMatch(/^mxe_/);
    await axe("tokens");
    await page.getByRole("button", { name: "Sign out" }).click();

    await signIn(token);
    expect(page.url()).toMatch(/\/dashboard$/);
    await page.getByRole("link", { name: "Domain", exact: true }).click();
    await page.waitForURL(/\/dashboard\/domains\/shop\.test/);
    for (const path of [
      `/dashboard/domains/other.test`,
      `/dashboard/messages/${bobs}`,
      `/dashboard/messages/${bobs}/raw`,
    ]) {
      const res = await page.goto(`${base}${path}`);
      expect([403, 404], path).toContain(res?.status());
      const html = await page.content();
      expect(html, path).not.toContain("Bob private");
      expect(html, path).not.toContain("bob@other.test");
    }
    const own = await page.goto(`${base}/dashboard/messages`);
    expect(own?.status()).toBe(200);
    const text = await page.content();
    expect(text).toContain("Invoice overdue");
    expect(text).not.toContain("Bob private");
    // The same token on the API: 404 for the other domain's message, never its data.
    const api = await fetch(`${base}/api/messages/${bobs}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(api.status).toBe(404);
    expect(await api.text()).not.toContain("Bob private");
    await page.getByRole("button", { name: "Sign out" }).click();
  });

  it("lets a mailbox user sign in with their password and see their messages' verdicts", async () => {
    await page.goto(`${base}/dashboard/sign-in`);
    await page.getByLabel("Email address").fill("ann@shop.test");
    await page.getByLabel("Password", { exact: true }).fill("ann's long password");
    await page.getByRole("button", { name: "Sign in" }).nth(1).click();
    await page.waitForURL(/\/dashboard\/me$/);
    await expect(page.getByRole("region", { name: "Messages" }).textContent()).resolves.toMatch(
      /Invoice overdue[\s\S]*dmarc fail/,
    );
    await axe("my messages");
    await page.goto(`${base}/dashboard/me/account`);
    await axe("account");
    expect(consoleErrors).toEqual([]);
    expect(checkedPages.length).toBeGreaterThanOrEqual(12);
  });
});
