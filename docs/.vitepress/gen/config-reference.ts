/** The configuration reference: every field of src/config.ts's ConfigSchema, by TOML table. */
import { z } from "zod";
import { ConfigSchema, listenerTls, parseConfig } from "../../../src/config.ts";
import { cell, code, GENERATED_NOTE, table } from "./markdown.ts";
import { type JsonSchema, SchemaWalker, type Section } from "./schema-table.ts";
import { srcDeclarations } from "./sources.ts";

export const CONFIG_DECL = "src/config.ts#ConfigSchema";

export function configJsonSchema(): JsonSchema {
  return z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}

export function configSections(): Section[] {
  return new SchemaWalker(configJsonSchema(), srcDeclarations()).sections(CONFIG_DECL);
}

function heading(s: Section): string {
  if (s.path === "") return "Top level";
  return s.array ? `[[${s.path}]]` : `[${s.path}]`;
}

export function configReferenceMarkdown(): string {
  const parts = [GENERATED_NOTE("src/config.ts (ConfigSchema) and the doc comments in src/")];
  for (const s of configSections()) {
    if (s.rows.length === 0 && !s.description) continue;
    parts.push(`### ${s.path === "" ? heading(s) : code(heading(s))} {#${anchor(s)}}`);
    if (s.description) parts.push(cell(s.description));
    if (s.rows.length > 0)
      parts.push(
        table(
          ["field", "type", "default", "description"],
          s.rows.map((r) => [
            cell(code(r.name)),
            cell(r.type),
            r.required ? "**required**" : cell(r.default),
            cell(r.description ?? ""),
          ]),
        ),
      );
  }
  return `${parts.join("\n\n")}\n`;
}

/** `#config-tls-acme`, `#config-listeners`: stable anchors other pages link to. */
export function anchor(s: Pick<Section, "path">): string {
  return s.path === "" ? "config-top-level" : `config-${s.path.replace(/\./g, "-").toLowerCase()}`;
}

/** The listeners a config without `listeners` gets, from the schema's default. */
export function defaultListenersMarkdown(): string {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error(parsed.error);
  return `${table(
    ["name", "role", "host", "port", "TLS"],
    parsed.config.listeners.map((l) => [
      code(l.name),
      code(l.role),
      code(l.host),
      String(l.port),
      listenerTls(l),
    ]),
  )}\n`;
}
