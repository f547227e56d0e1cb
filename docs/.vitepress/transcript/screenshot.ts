/**
 * node screenshot.ts URL FILE [SECRETS]: a PNG of the page at URL, taken with Debian's chromium through
 * playwright-core. When the page asks to sign in (the dashboard), it signs in with the admin token from
 * SECRETS (the data directory's secrets.json) first. Exit 3 when the page does not answer 200 (it does
 * not exist yet), so the tour keeps its slot. Run by tour.ts inside the tour's session, where the server is.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { chromium } from "playwright-core";

const [url, file, secrets] = process.argv.slice(2);
if (!url || !file) {
  console.error("usage: node screenshot.ts URL FILE");
  process.exit(2);
}
const res = await fetch(url).catch(() => null);
if (res?.status !== 200) {
  console.log(`${url}: ${res ? res.status : "no answer"}; no screenshot`);
  process.exit(3);
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  const tokenField = page.getByLabel("Admin token or domain token");
  if (secrets && (await tokenField.count()) > 0) {
    await tokenField.fill((JSON.parse(readFileSync(secrets, "utf8")) as { adminToken: string }).adminToken);
    await page.getByRole("button", { name: "Sign in" }).first().click();
    await page.waitForLoadState("networkidle");
  }
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  console.log(`${file}`);
} finally {
  await browser.close();
}
