import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type DefaultTheme, defineConfig } from "vitepress";

const DOCS = fileURLToPath(new URL("..", import.meta.url));

// Reference tables come from the code's own schemas, regenerated on every load of this config. In a
// Node process of their own (type stripping), not bundled into this config: they import the product.
execFileSync(process.execPath, [`${DOCS}.vitepress/gen/generate.ts`], {
  stdio: ["ignore", "ignore", "inherit"],
});

type Item = DefaultTheme.SidebarItem & { link: string; pending?: true };

/**
 * `pending` pages are being written on other branches: the sidebar shows them once the file exists,
 * so a branch that lacks one still builds (VitePress fails on dead links, the sidebar's included).
 */
function present(items: Item[]): DefaultTheme.SidebarItem[] {
  return items
    .filter((i) => !i.pending || existsSync(`${DOCS}${i.link.replace(/^\//, "")}.md`))
    .map(({ pending: _pending, ...item }) => item);
}

const sidebar: Array<{ text: string; items: Item[] }> = [
  {
    text: "Introduction",
    items: [
      { text: "What is mxedge", link: "/" },
      { text: "A tour", link: "/tour" },
    ],
  },
  {
    text: "Getting started",
    items: [
      { text: "Embedded: one process", link: "/getting-started" },
      { text: "Workers + a relay", link: "/workers-relay" },
      { text: "Cloudflare Workers", link: "/workers", pending: true },
      { text: "Behind a load balancer", link: "/load-balancers" },
      { text: "Setting up a domain", link: "/domains" },
    ],
  },
  {
    text: "Mail",
    items: [
      { text: "Authentication and rules", link: "/rules" },
      { text: "Spam filtering", link: "/spam", pending: true },
      { text: "Sieve", link: "/sieve", pending: true },
      { text: "Sending mail", link: "/outbound", pending: true },
      { text: "Webhooks", link: "/webhooks" },
      { text: "Edge functions", link: "/edge-functions" },
      { text: "IMAP server", link: "/imap", pending: true },
      { text: "IMAP clients", link: "/imap-clients" },
    ],
  },
  {
    text: "Reference",
    items: [
      { text: "Configuration", link: "/configuration" },
      { text: "The mxedge command", link: "/cli" },
      { text: "HTTP API", link: "/http-api" },
    ],
  },
  {
    text: "Operations",
    items: [
      { text: "Running in production", link: "/operations" },
      { text: "Dashboard", link: "/dashboard", pending: true },
      { text: "Performance and reliability", link: "/performance" },
      { text: "Security model", link: "/security-model" },
      { text: "Security", link: "/security", pending: true },
    ],
  },
  {
    text: "Migrating",
    items: [
      { text: "From Postfix + Dovecot", link: "/migrate-postfix-dovecot" },
      { text: "From Cloudflare Email Workers", link: "/migrate-email-workers" },
    ],
  },
  { text: "Contributing", items: [{ text: "Development", link: "/development" }] },
];

export default defineConfig({
  title: "mxedge",
  description:
    "An edge-first mail server: a TCP relay for SMTP and IMAP in front of a Hono edge on Workers or Node",
  cleanUrls: true,
  lastUpdated: false,
  // Dead internal links fail the build (VitePress' default; CI relies on it): never set ignoreDeadLinks.
  srcExclude: ["**/.generated/**"],
  themeConfig: {
    nav: [
      { text: "Guide", link: "/getting-started" },
      { text: "Reference", link: "/configuration" },
      { text: "Tour", link: "/tour" },
    ],
    sidebar: sidebar.map((group) => ({ text: group.text, items: present(group.items) })),
    outline: [2, 3],
    search: { provider: "local" },
  },
});
