/**
 * `npm run docs:tour`: runs the commands in docs/tour.md and writes what they printed beneath them.
 *
 * In the page, a transcript is a code block between `<!-- tour -->` and `<!-- /tour -->`. Its lines that
 * start with `$ ` are commands (`> ` lines continue one, as a shell's PS2 shows a heredoc); everything
 * else in the block is output, and is replaced by what the command prints now. They run in order in one
 * bash session in a fresh clone (sandbox.ts), `npm start` in the background until it is ready.
 * `<!-- tour-screenshot PATH FILE -->` … `<!-- /tour-screenshot -->` takes a screenshot of
 * http://127.0.0.1:8787PATH into docs/public/tour/FILE (screenshot.ts: Debian's chromium through
 * playwright-core) once that page exists, the dashboard; until then the slot says so.
 *
 *   npm run docs:tour               rewrite docs/tour.md
 *   npm run docs:tour -- --check    exit 1 when the page differs from a fresh run (volatile values aside)
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Clone, freshClone, REPO, Session } from "./sandbox.ts";

export const TOUR = join(REPO, "docs/tour.md");
const BLOCK = /(<!-- tour -->\n```[a-z]*\n)([\s\S]*?)(```\n<!-- \/tour -->)/g;
const SHOT = /<!-- tour-screenshot (\S+) (\S+) -->\n[\s\S]*?<!-- \/tour-screenshot -->/g;

export interface Command {
  /** As shown, `$ ` and `> ` prefixes included. */
  shown: string[];
  /** What the shell runs. */
  script: string;
}

export function commandsOf(block: string): Command[] {
  const out: Command[] = [];
  // A command continues on `> ` lines only while it is open: inside a heredoc, or after a trailing `\`.
  // Other lines starting with `> ` are output (npm prints `> mxedge@0.1.0 start`).
  let heredoc: string | null = null;
  let backslash = false;
  const open = (text: string) => {
    const here = /<<-?\s*(['"]?)(\w+)\1/.exec(text);
    if (here && heredoc === null) heredoc = here[2] as string;
    backslash = text.endsWith("\\");
  };
  for (const line of block.split("\n")) {
    const last = out.at(-1);
    if ((heredoc !== null || backslash) && last && (line.startsWith("> ") || line === ">")) {
      const text = line.slice(2);
      last.shown.push(line);
      last.script += `\n${text}`;
      if (heredoc !== null && text === heredoc) heredoc = null;
      else open(text);
      if (heredoc === null && !text.endsWith("\\")) backslash = false;
    } else if (line.startsWith("$ ")) {
      heredoc = null;
      out.push({ shown: [line], script: line.slice(2) });
      open(line.slice(2));
    } else {
      heredoc = null;
      backslash = false;
    }
  }
  return out;
}

/** Values that differ on every run: ids, times, tokens, keys. */
export function normalize(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .replace(/\/[\w/.-]*\/mxedge-clone-[\w]+\/mxedge/g, "<CLONE>")
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, "<ULID>")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, "<TIME>")
    .replace(/\b\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}/g, "<DATE>")
    .replace(/\bm\d{6}(-\d+)?\b/g, "<SELECTOR>")
    .replace(/[A-Za-z0-9+/_-]{24,}={0,2}/g, "<BASE64>")
    .replace(/\b[0-9a-f]{16,}\b/g, "<HEX>")
    .replace(/\b\d+B\b/g, "<N>B")
    .replace(/\(took \d+ ms\)/g, "(took <N> ms)");
}

/** Runs every command of the page in a fresh clone and returns the page with their output. */
export async function runTour(page: string, shotsDir = join(REPO, "docs/public/tour")): Promise<string> {
  let clone: Clone | undefined;
  let session: Session | undefined;
  try {
    clone = freshClone();
    session = new Session(clone.dir);
    const blocks = [...page.matchAll(BLOCK)];
    const outputs: string[] = [];
    for (const block of blocks) {
      const shown: string[] = [];
      for (const command of commandsOf(block[2] as string)) {
        shown.push(...command.shown);
        let output: string;
        if (command.script === "npm start") {
          output = await session.background("npm start", join(clone.dir, "..", "server.log"), /^ready$/m);
        } else {
          const step = await session.run(command.script);
          if (step.code !== 0)
            throw new Error(`tour command failed (${step.code}): ${command.script}\n${step.output}`);
          output = step.output;
        }
        // A terminal shows CRLF (IMAP, SMTP) as a plain line break.
        output = output.replace(/\r\n/g, "\n");
        if (output.trim() !== "") shown.push(output.replace(/\n+$/, ""));
      }
      outputs.push(`${shown.join("\n")}\n`);
    }
    let i = 0;
    let result = page.replace(
      BLOCK,
      (_m, open: string, _body: string, close: string) => `${open}${outputs[i++]}${close}`,
    );
    for (const m of [...result.matchAll(SHOT)]) {
      const [slot, path, file] = m as unknown as [string, string, string];
      const out = join(shotsDir, file);
      const shot = await session.run(
        `node ${JSON.stringify(join(REPO, "docs/.vitepress/transcript/screenshot.ts"))} http://127.0.0.1:8787${path} ${JSON.stringify(out)} data/secrets.json`,
      );
      if (shot.code !== 0 && shot.code !== 3)
        throw new Error(`screenshot of ${path} failed:\n${shot.output}`);
      const body =
        shot.code === 0
          ? `![${path}](/tour/${file})`
          : `::: info Screenshot slot\n\`${path}\` is photographed here by \`npm run docs:tour\` once it exists.\n:::`;
      result = result.replace(
        slot,
        `<!-- tour-screenshot ${path} ${file} -->\n${body}\n<!-- /tour-screenshot -->`,
      );
    }
    return result;
  } finally {
    await session?.stop();
    clone?.remove();
  }
}

if (import.meta.main) {
  const page = readFileSync(TOUR, "utf8");
  const check = process.argv.includes("--check");
  const fresh = await runTour(page, check ? mkdtempSync(join(tmpdir(), "mxedge-tour-shots-")) : undefined);
  if (check) {
    if (normalize(fresh) !== normalize(page)) {
      console.error("docs/tour.md differs from what the commands print now: run npm run docs:tour");
      process.exit(1);
    }
    console.log("docs/tour.md matches a fresh run");
  } else {
    writeFileSync(TOUR, fresh);
    console.log(`wrote ${TOUR}${existsSync(join(REPO, "docs/public/tour")) ? " and docs/public/tour/" : ""}`);
  }
}
