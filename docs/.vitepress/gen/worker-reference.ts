/** The Worker's bindings, secrets and variables: the `Env` interface of edge/worker.ts with its doc comments. */
import { cell, code, GENERATED_NOTE, table } from "./markdown.ts";
import { scanKeys } from "./source-comments.ts";
import { readSource } from "./sources.ts";

export function workerEnvRows(): Array<{ name: string; description: string | undefined }> {
  return scanKeys(readSource("edge/worker.ts"))
    .filter((e) => e.decl === "Env" && e.path.length === 1)
    .map((e) => ({ name: e.path[0] as string, description: e.comment }));
}

export function workerEnvMarkdown(): string {
  return `${GENERATED_NOTE("edge/worker.ts (interface Env)")}\n\n${table(
    ["name", "what"],
    workerEnvRows().map((r) => [cell(code(r.name)), cell(r.description ?? "")]),
  )}\n`;
}
