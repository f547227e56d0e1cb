/** Markdown pieces for generated reference tables, safe inside VitePress (Vue) pages. */

/**
 * Text for a table cell: `|` escaped everywhere (GFM splits cells on it, even in code spans), and
 * outside code spans `<`, `>` and `{{` escaped, because VitePress compiles a page as a Vue template.
 */
export function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part.replace(/\|/g, "\\|")
        : part
            .replace(/&(?![a-z]+;|#\d+;)/g, "&amp;")
            .replace(/</g, "&lt;")
            .replace(/>/g, "&gt;")
            .replace(/\{\{/g, "&#123;&#123;")
            .replace(/\|/g, "\\|")
            .replace(/\n+/g, " "),
    )
    .join("");
}

/** A code span holding `text` whatever backticks it contains. */
export function code(text: string): string {
  const ticks = text.includes("`") ? "``" : "`";
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const GENERATED_NOTE = (from: string) =>
  `<!-- generated from ${from} by docs/.vitepress/gen at build time: edit the code, not this file -->`;
