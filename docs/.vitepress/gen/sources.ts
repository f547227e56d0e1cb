/** Reading the repository's own source files for the generators. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DeclIndex, indexDeclarations } from "./source-comments.ts";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(rel);
  }
  return out.sort();
}

export function readSource(rel: string): string {
  return readFileSync(join(ROOT, rel), "utf8");
}

let srcIndex: DeclIndex | undefined;
/** Doc comments of every declaration in src/ (the zod schemas live there). */
export function srcDeclarations(): DeclIndex {
  srcIndex ??= indexDeclarations(sourceFiles("src").map((file) => ({ file, text: readSource(file) })));
  return srcIndex;
}
