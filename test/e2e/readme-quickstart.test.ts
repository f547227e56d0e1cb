/**
 * The README's quick start, run as written in a fresh clone, so the README cannot lie. The commands are
 * read from the `sh` code blocks under "## Quick start" at test time, and run in one bash session in
 * order: `npm start` in the background until it prints `ready`, the rest as the blocks' text.
 *
 * Two departures, both outside the commands themselves:
 *  - `npm ci` is not run: the clone's node_modules is a symlink to this checkout's (the same lockfile,
 *    already installed), so the test needs no network (docs/.vitepress/transcript/sandbox.ts).
 *  - The session runs in a network namespace of its own (`unshare -n`, as root in CI), so the default
 *    ports are free and the system resolver's lookups fail at once instead of leaving the machine. Where
 *    that is not possible, MXEDGE_DNS_ZONE points at an empty zone instead (nothing may query outside DNS).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Clone, freshClone, Session } from "../../docs/.vitepress/transcript/sandbox.ts";
import { requireTools } from "./tools.ts";

/** The `sh` blocks of one `## ` section, in order. */
export function shellBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const next = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** A command line without its trailing `# comment`. */
const bare = (line: string) => line.replace(/\s+#.*$/, "").trim();

describe.runIf(requireTools("git", "python3"))("README quick start", () => {
  let clone: Clone | undefined;
  let session: Session | undefined;
  afterAll(async () => {
    await session?.stop();
    clone?.remove();
  });

  it("runs as written in a fresh clone", async () => {
    clone = freshClone();
    const readme = readFileSync(join(clone.dir, "README.md"), "utf8");
    const blocks = shellBlocks(readme, "Quick start");
    expect(blocks.length).toBeGreaterThan(0);
    session = new Session(clone.dir);

    let started = false;
    const transcript: string[] = [];
    for (const block of blocks) {
      const rest: string[] = [];
      for (const line of block.split("\n")) {
        if (bare(line) === "npm ci") continue; // node_modules is linked (see above)
        if (bare(line) === "npm start") {
          const banner = await session.background(
            "npm start",
            join(clone.dir, "..", "server.log"),
            /^ready$/m,
          );
          expect(banner).toMatch(/admin token/);
          started = true;
          continue;
        }
        rest.push(line);
      }
      const script = rest.join("\n").trim();
      if (script === "") continue;
      const step = await session.run(`set -e\n${script}`);
      transcript.push(step.output);
      expect(step.code, `this README block failed:\n${script}\n--- output:\n${step.output}`).toBe(0);
    }
    expect(started, "the quick start starts the server with npm start").toBe(true);

    // What the quick start sent is stored: its subject is in what `messages list` printed.
    const subject = /Subject: ([^\\\r\n]+)/.exec(blocks.join("\n"))?.[1];
    expect(subject, "the quick start sends a message with a Subject").toBeTruthy();
    expect(transcript.join("\n")).toContain(subject as string);
    const stored = await session.run("npx mxedge messages list --json");
    expect(stored.code).toBe(0);
    const list = JSON.parse(stored.output) as Array<{ subject: string | null; rcptTo: string[] }>;
    expect(list.map((m) => m.subject)).toContain(subject);
  }, 300_000); // a clone, a server start and eight npx commands: ~1 min idle, 2+ on a loaded 2-core machine
});
