/** The CLI reference: usage, flags and environment variables, from relay/cli.ts and relay/cli/options.ts. */

import { CLI_OPTIONS, type CliOption, ENVIRONMENT } from "../../../relay/cli/options.ts";
import { USAGE } from "../../../relay/cli.ts";
import { parseConfig } from "../../../src/config.ts";
import { cell, code, GENERATED_NOTE, table } from "./markdown.ts";

const SCOPE: Record<CliOption["scope"], string> = {
  config: "every command",
  serve: "serve",
  admin: "admin commands",
  any: "any",
};

/** The built-in value of the config field a flag sets (`listeners.smtp.port`: the listener named smtp). */
export function fieldDefault(field: string): unknown {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error(parsed.error);
  let value: unknown = parsed.config;
  for (const key of field.split(".")) {
    if (Array.isArray(value)) value = value.find((v: { name?: string }) => v.name === key);
    else if (value && typeof value === "object") value = (value as Record<string, unknown>)[key];
    else return undefined;
  }
  return value;
}

export function flagRows(): Array<{
  flag: string;
  env: string;
  default: string;
  scope: string;
  help: string;
}> {
  return Object.entries(CLI_OPTIONS as Record<string, CliOption>).map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : "";
    const fields = o.field === undefined ? [] : typeof o.field === "string" ? [o.field] : o.field;
    const values = fields
      .map((f) => ({ f, v: fieldDefault(f) }))
      .filter((x) => x.v !== undefined)
      .map((x) => (fields.length > 1 ? `${x.f.split(".")[0]}: ${code(String(x.v))}` : code(String(x.v))));
    return {
      flag: `${short}--${name}${o.arg ? ` ${o.arg}` : ""}`,
      env: o.env ?? "",
      default: values.join(", "),
      scope: SCOPE[o.scope],
      help: o.help,
    };
  });
}

/** Every environment variable: the flags' twins first, then the others. */
export function envRows(): Array<{ name: string; readBy: string; help: string }> {
  const twins = Object.entries(CLI_OPTIONS as Record<string, CliOption>)
    .filter(([, o]) => o.env)
    .map(([name, o]) => ({
      name: o.env as string,
      readBy: SCOPE[o.scope],
      help: `same as \`--${name}\`: ${o.help}`,
    }));
  const others = Object.entries(ENVIRONMENT).map(([name, v]) => ({ name, readBy: v.readBy, help: v.help }));
  return [...twins, ...others];
}

export function usageMarkdown(): string {
  return `${GENERATED_NOTE("relay/cli.ts (USAGE)")}\n\n\`\`\`text\n${USAGE.trimEnd()}\n\`\`\`\n`;
}

export function flagsMarkdown(): string {
  return `${GENERATED_NOTE("relay/cli/options.ts and the config schema's defaults")}\n\n${table(
    ["flag", "environment", "default", "for", "what"],
    flagRows().map((r) => [cell(code(r.flag)), r.env ? code(r.env) : "", r.default, r.scope, cell(r.help)]),
  )}\n`;
}

export function envMarkdown(): string {
  return `${GENERATED_NOTE("relay/cli/options.ts")}\n\n${table(
    ["variable", "read by", "what"],
    envRows().map((r) => [code(r.name), r.readBy, cell(r.help)]),
  )}\n`;
}
