/**
 * The docs' generated references cover what the code defines: every config field (from the zod
 * schema's JSON Schema, walked independently of the generator), every flag and MXEDGE_* variable the
 * code reads, every Prometheus series named in the code, every Worker variable, every admin route and
 * every webhook payload field; each with a description. And every mxedge config snippet in docs/
 * is a valid config.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import {
  openApiMarkdown,
  operations,
  schemaRows,
  webhookPayloadMarkdown,
} from "../../docs/.vitepress/gen/api-reference.ts";
import { envRows, flagRows, flagsMarkdown } from "../../docs/.vitepress/gen/cli-reference.ts";
import { configJsonSchema, configSections } from "../../docs/.vitepress/gen/config-reference.ts";
import { cell } from "../../docs/.vitepress/gen/markdown.ts";
import { exposition, parseExposition } from "../../docs/.vitepress/gen/metrics-reference.ts";
import { allPaths, type JsonSchema } from "../../docs/.vitepress/gen/schema-table.ts";
import { scanKeys } from "../../docs/.vitepress/gen/source-comments.ts";
import { ROOT, readSource, sourceFiles } from "../../docs/.vitepress/gen/sources.ts";
import { workerEnvRows } from "../../docs/.vitepress/gen/worker-reference.ts";
import { CLI_OPTIONS } from "../../relay/cli/options.ts";
import { parseConfig } from "../../src/config.ts";
import { webhookPayloadJsonSchema } from "../../src/webhooks/payload.ts";

const productSources = () =>
  ["src", "edge", "relay"].flatMap(sourceFiles).map((f) => ({ f, text: readSource(f) }));

describe("source comment scanner", () => {
  it("finds keys by path with their doc comments, past strings, regexes and calls", () => {
    const src = `
const a = 1 / 2; // a division, then a regex: /[{(]/
export const S = z.strictObject({
  /** The name. */
  name: z.string().regex(/^[a-z{]+$/, "letters: {"),
  inner: z.strictObject({ "dash-key": z.number(), /** Deep. */ deep: z.boolean() }).default({ deep: true }),
  port,
});
function f() { return { ok: true }; }
export interface Env {
  /** A binding. */
  DB: unknown;
  OPTIONAL?: string;
}`;
    const found = scanKeys(src).map(
      (e) => `${e.decl}:${e.path.join(".")}${e.comment ? `=${e.comment}` : ""}`,
    );
    expect(found).toEqual([
      "S:name=The name.",
      "S:inner",
      "S:inner.dash-key",
      "S:inner.deep=Deep.",
      "S:inner.deep",
      "S:port",
      "Env:DB=A binding.",
      "Env:OPTIONAL",
    ]);
  });

  it("escapes table cells for VitePress", () => {
    expect(cell("a | b <data> `x | y` {{ z }}")).toBe("a \\| b &lt;data&gt; `x \\| y` &#123;&#123; z }}");
  });
});

describe("configuration reference", () => {
  it("has a row for every field of the schema, each described", () => {
    const sections = configSections();
    const covered = new Set([
      ...sections.map((s) => s.fullPath),
      ...sections.flatMap((s) => s.rows.map((r) => r.path)),
    ]);
    const missing = allPaths(configJsonSchema()).filter((p) => !covered.has(p));
    expect(missing, "fields the generated reference lacks").toEqual([]);
    const undescribed = sections
      .flatMap((s) => s.rows)
      .filter((r) => !r.description)
      .map((r) => r.path);
    expect(undescribed, "add a /** comment */ above these fields in src/ (it is their description)").toEqual(
      [],
    );
  });

  it("shows the schema's defaults", () => {
    const limits = configSections().find((s) => s.path === "limits");
    const row = limits?.rows.find((r) => r.name === "maxMessageBytes");
    expect(row?.default).toBe("`26214400` (25 MiB)");
  });
});

describe("CLI reference", () => {
  it("lists every flag, with its environment twin and the config default it overrides", () => {
    const rows = flagRows();
    for (const [name, o] of Object.entries(CLI_OPTIONS)) {
      const row = rows.find((r) => r.flag.includes(`--${name}`));
      expect(row, name).toBeDefined();
      expect(o.help.length, `${name} has help`).toBeGreaterThan(5);
    }
    expect(rows.find((r) => r.flag.startsWith("--smtp"))?.default).toBe("`2525`");
    expect(flagsMarkdown()).toContain("`--dns-zone FILE`");
  });

  it("lists every environment variable the code reads, and none it does not", () => {
    const names = new Set<string>();
    for (const { text } of productSources()) {
      for (const m of text.matchAll(/\bMXEDGE_[A-Z][A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
      if (/env\.CREDENTIALS_DIRECTORY/.test(text)) names.add("CREDENTIALS_DIRECTORY");
    }
    // MXEDGE_${name.toUpperCase()} for the port flags: those names come from CLI_OPTIONS' env fields.
    const documented = new Set(envRows().map((r) => r.name));
    const edgeOnly = new Set(workerEnvRows().map((r) => r.name));
    const missing = [...names].filter((n) => !documented.has(n) && !edgeOnly.has(n));
    expect(missing, "describe these in relay/cli/options.ts (ENVIRONMENT)").toEqual([]);
    const code = productSources()
      .map((s) => s.text)
      .join("\n");
    const stale = [...documented].filter(
      (n) => !code.includes(n) && !/^MXEDGE_(SMTP|SUBMISSIONS?|IMAPS?)$/.test(n),
    );
    expect(stale, "documented but never read").toEqual([]);
  });
});

describe("metrics reference", () => {
  it("lists every series the code names, each with HELP and TYPE", () => {
    const rows = parseExposition(exposition());
    const listed = new Set(rows.map((r) => r.name));
    const named = new Set<string>();
    // Files that define series: they write `# HELP`/`# TYPE` lines or make a Counter, Gauge or Histogram
    // (other mxedge_ names, such as the dashboard's cookies, are not metrics).
    const definers = productSources().filter((s) =>
      /# (HELP|TYPE) |new (Counter|Gauge|Histogram)\(/.test(s.text),
    );
    expect(definers.length).toBeGreaterThan(0);
    for (const { text } of definers)
      for (const m of text.matchAll(/(?<![\w$])mxedge_[a-z][a-z0-9_]*/g))
        named.add(m[0].replace(/_(bucket|sum|count)$/, ""));
    const missing = [...named].filter((n) => !listed.has(n));
    expect(
      missing,
      "series the code names but /metrics does not render (add them to the exposition)",
    ).toEqual([]);
    for (const r of rows) {
      expect(r.help, r.name).not.toBe("");
      expect(["counter", "gauge", "histogram", "summary"]).toContain(r.type);
    }
  });
});

describe("Worker, HTTP API and webhook payload references", () => {
  it("describe every Worker binding and variable", () => {
    const rows = workerEnvRows();
    expect(rows.map((r) => r.name)).toContain("DB");
    expect(
      rows.filter((r) => !r.description).map((r) => r.name),
      "comment these in edge/worker.ts Env",
    ).toEqual([]);
  });

  it("render every admin route of the OpenAPI document", () => {
    const md = openApiMarkdown();
    const ops = operations();
    expect(ops.length).toBeGreaterThan(10);
    for (const { method, path } of ops) expect(md).toContain(`\`${method} ${path}\``);
  });

  it("have a row for every webhook payload field", () => {
    const schema = webhookPayloadJsonSchema() as JsonSchema;
    const rows = new Set(
      schemaRows(schema, "src/webhooks/payload.ts#WebhookPayloadSchema").map((r) => r.path),
    );
    expect(allPaths(schema).filter((p) => !rows.has(p))).toEqual([]);
    expect(webhookPayloadMarkdown()).toContain("`replyText`");
  });
});

describe("the docs site", () => {
  it("keeps VitePress' dead-link check on (CI relies on it)", () => {
    expect(readSource("docs/.vitepress/config.ts")).not.toMatch(/ignoreDeadLinks\s*:/);
  });
});

describe("config snippets in docs/", () => {
  const docs = join(ROOT, "docs");
  const pages = readdirSync(docs).filter((f) => f.endsWith(".md"));
  const snippets = pages.flatMap((page) =>
    [...readFileSync(join(docs, page), "utf8").matchAll(/```toml\n([\s\S]*?)```/g)]
      .map((m) => ({ page, text: m[1] as string }))
      // wrangler.toml snippets are Cloudflare's format, not mxedge's
      .filter((s) => !/^\s*(main|compatibility_flags|\[\[d1_databases\]\])\b/m.test(s.text)),
  );

  it("exist", () => {
    expect(snippets.length).toBeGreaterThan(5);
  });

  it.each(snippets.map((s, i) => [`${s.page} #${i}`, s.text] as const))(
    "%s is a valid config",
    (_where, text) => {
      const result = parseConfig(parseToml(text));
      expect(result.ok ? "ok" : result.error).toBe("ok");
    },
  );
});
