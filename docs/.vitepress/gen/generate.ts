/**
 * Writes the generated reference fragments into docs/.generated/ (pages include them with
 * `<!--@include: ./.generated/NAME.md-->`) and the OpenAPI document into docs/public/. The VitePress
 * config calls this on every load, so `docs:dev` and `docs:build` always show what the code says.
 * Run alone: node docs/.vitepress/gen/generate.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openApiDocument } from "../../../src/admin/openapi.ts";
import { openApiMarkdown, webhookPayloadMarkdown } from "./api-reference.ts";
import { envMarkdown, flagsMarkdown, usageMarkdown } from "./cli-reference.ts";
import { configReferenceMarkdown, defaultListenersMarkdown } from "./config-reference.ts";
import { metricsMarkdown } from "./metrics-reference.ts";
import { ROOT } from "./sources.ts";
import { workerEnvMarkdown } from "./worker-reference.ts";

export const FRAGMENTS: Record<string, () => string> = {
  "config-fields": configReferenceMarkdown,
  "config-listeners": defaultListenersMarkdown,
  "cli-usage": usageMarkdown,
  "cli-flags": flagsMarkdown,
  "cli-env": envMarkdown,
  metrics: metricsMarkdown,
  "worker-env": workerEnvMarkdown,
  "http-api": openApiMarkdown,
  "webhook-payload": webhookPayloadMarkdown,
};

/** Writes a file only when its content changed (the dev server reloads on writes). */
function put(path: string, text: string): void {
  let old: string | null = null;
  try {
    old = readFileSync(path, "utf8");
  } catch {}
  if (old !== text) writeFileSync(path, text);
}

export function generate(docsDir = join(ROOT, "docs")): string[] {
  const out = join(docsDir, ".generated");
  mkdirSync(out, { recursive: true });
  mkdirSync(join(docsDir, "public"), { recursive: true });
  const written: string[] = [];
  for (const [name, make] of Object.entries(FRAGMENTS)) {
    put(join(out, `${name}.md`), make());
    written.push(`.generated/${name}.md`);
  }
  put(join(docsDir, "public", "openapi.json"), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  written.push("public/openapi.json");
  return written;
}

if (import.meta.main) console.log(generate().join("\n"));
