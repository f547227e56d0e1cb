/**
 * docs/tour.md's transcripts are what the commands print: the tour runs again in a fresh clone
 * (docs/.vitepress/transcript/tour.ts) and must match the page, except for values that change on every
 * run (ids, times, keys, the clone's path). When it fails: `npm run docs:tour` rewrites the page.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandsOf, normalize, runTour, TOUR } from "../../docs/.vitepress/transcript/tour.ts";
import { requireTools } from "./tools.ts";

describe.runIf(requireTools("git", "python3"))("the docs tour", () => {
  it("has transcripts of real commands", () => {
    const page = readFileSync(TOUR, "utf8");
    const commands = [...page.matchAll(/<!-- tour -->\n```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) =>
      commandsOf(m[1] as string),
    );
    expect(commands.length).toBeGreaterThan(5);
    expect(commands[0]?.script).toBe("npm start");
  });

  it("matches what the commands print now (else: npm run docs:tour)", async () => {
    const page = readFileSync(TOUR, "utf8");
    const fresh = await runTour(page, mkdtempSync(join(tmpdir(), "mxedge-tour-shots-")));
    expect(normalize(fresh)).toBe(normalize(page));
  }, 300_000);
});
