/** The IMAP view stored at ingest: read back, it cuts the same sections as a fresh parse. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { decodedBody } from "../../src/imap/binary.ts";
import { type MimePart, parseMime } from "../../src/imap/mime.ts";
import { extractSection, locate } from "../../src/imap/section.ts";
import { loadStructure, structureJson } from "../../src/imap/structure.ts";
import { createStore } from "../../src/store/index.ts";

const dir = join(import.meta.dirname, "../fixtures/imap-mime");
const files = readdirSync(dir).filter((f) => f.endsWith(".eml"));

/** Every part path of a tree ([] for the root), as FETCH would address them. */
function paths(p: MimePart, prefix: number[] = []): number[][] {
  const out: number[][] = [prefix];
  const container = p.message ?? p;
  if (container.type === "multipart") {
    container.children.forEach((c, i) => {
      out.push(...paths(c, [...prefix, i + 1]));
    });
  } else if (p.message) out.push(...paths(p.message, [...prefix, 1]).slice(1));
  return out;
}

describe("stored IMAP structure", () => {
  for (const file of files) {
    it(`cuts the same sections as a fresh parse: ${file}`, () => {
      const raw = new Uint8Array(readFileSync(join(dir, file)));
      const fresh = parseMime(raw);
      const view = loadStructure(structureJson(raw), raw.length);
      if (!view) throw new Error("no view");
      const all = paths(fresh);
      expect(all.length).toBeGreaterThan(0);
      for (const path of all) {
        for (const what of ["", "HEADER", "TEXT", "MIME"] as const) {
          if (what === "MIME" && path.length === 0) continue;
          const spec = { path, what, fields: [] };
          expect(extractSection(raw, view.root, spec), `${path.join(".")} ${what}`).toEqual(
            extractSection(raw, fresh, spec),
          );
        }
        const a = locate(view.root, path);
        const b = locate(fresh, path);
        expect(a === null).toBe(b === null);
        if (a && b && b.type !== "multipart") expect(decodedBody(raw, a)).toEqual(decodedBody(raw, b));
      }
    });
  }

  it("refuses a malformed, foreign or mismatched structure (FETCH then computes it)", () => {
    const raw = new TextEncoder().encode("Subject: x\r\n\r\nbody\r\n");
    const json = structureJson(raw);
    expect(loadStructure(json, raw.length)).not.toBeNull();
    expect(loadStructure(json, raw.length + 1)).toBeNull();
    expect(loadStructure("{not json", raw.length)).toBeNull();
    expect(loadStructure(JSON.stringify({ v: 2 }), raw.length)).toBeNull();
    expect(loadStructure(null, raw.length)).toBeNull();
  });

  it("is written at APPEND and read back by the store", async () => {
    const handle = openSqlite(":memory:");
    await migrateSqlite(handle);
    const store = createStore(handle.driver);
    await store.directory.addDomain("example.test");
    const user = await store.directory.addUser("bob@example.test", "long enough password");
    const raw = new Uint8Array(readFileSync(join(dir, "02-nested-rfc822.eml")));
    await store.mail.append(user.id, "INBOX", raw, [], null);
    const box = await store.mail.mailbox(user.id, "INBOX");
    const [meta] = await store.mail.meta(box.id, [[1, 1]]);
    const stored = (await store.mail.structures([meta?.blobId as string])).get(meta?.blobId as string);
    expect(stored).toBe(structureJson(raw));
    expect(loadStructure(stored, raw.length)?.bs).toContain('"inner"');
  });
});
