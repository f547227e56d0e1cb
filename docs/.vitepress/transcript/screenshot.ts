/**
 * node screenshot.ts URL FILE: a PNG of the page at URL, taken with Debian's chromium through
 * playwright-core. Exit 3 when the page does not answer 200 (it does not exist yet), so the tour keeps
 * its slot. Run by tour.ts inside the tour's session, where the server is.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

interface Browser {
  newPage(o: object): Promise<{ goto(u: string): Promise<unknown>; screenshot(o: object): Promise<unknown> }>;
  close(): Promise<void>;
}

const [url, file] = process.argv.slice(2);
if (!url || !file) {
  console.error("usage: node screenshot.ts URL FILE");
  process.exit(2);
}
const res = await fetch(url).catch(() => null);
if (res?.status !== 200) {
  console.log(`${url}: ${res ? res.status : "no answer"}; no screenshot`);
  process.exit(3);
}
// playwright-core is a dev dependency of the dashboard; named indirectly so this file builds without it.
const name = "playwright-core";
const { chromium } = (await import(name)) as { chromium: { launch(o: object): Promise<Browser> } };
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  console.log(`${file}`);
} finally {
  await browser.close();
}
