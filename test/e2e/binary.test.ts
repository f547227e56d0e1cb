/**
 * The single executable (`npm run build:binary`): built once per run, its size printed; it starts as
 * `mxedge relay` against a test edge (an embedded `mxedge serve`), takes one message (stored by the
 * edge), and stops cleanly on SIGTERM.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, type RunningMxedge } from "./harness.ts";
import { listMessages, startWithUser, USER } from "./smtp-fixtures.ts";
import { openSession } from "./smtp-raw.ts";
import { startRelay } from "./smtp-relay-process.ts";

const out = join(mkdtempSync(join(tmpdir(), "mxedge-bin-")), "mxedge");
let edge: RunningMxedge;

describe("single binary", () => {
  beforeAll(async () => {
    const started = Date.now();
    const log = execFileSync(process.execPath, [join(ROOT, "scripts/build-binary.ts"), "--out", out], {
      cwd: ROOT,
      timeout: 180_000,
    }).toString();
    console.log(`${log.trim()} [test build ${Date.now() - started} ms]`);
    edge = await startWithUser();
  }, 240_000);
  afterAll(async () => {
    await edge?.stop();
    rmSync(join(out, ".."), { recursive: true, force: true });
  });

  it("builds one executable for linux-x64 that relays a message to the edge and stops on SIGTERM", async () => {
    const size = statSync(out).size;
    expect(size).toBeGreaterThan(10 * 1024 * 1024);
    // ELF, 64-bit, little-endian, e_machine x86-64 (62).
    const header = readFileSync(out).subarray(0, 20);
    expect([...header.subarray(0, 6)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
    expect(header.readUInt16LE(18)).toBe(62);
    expect(execFileSync(out, ["--version"]).toString().trim()).toBe("0.1.0");

    const { relaySecret } = JSON.parse(readFileSync(join(edge.dataDir, "secrets.json"), "utf8")) as {
      relaySecret: string;
    };
    const relay = await startRelay({
      edgeUrl: `http://127.0.0.1:${edge.ports.http}`,
      secret: relaySecret,
      command: { cmd: out, args: [] },
    });
    expect(relay.output()).toMatch(/reachable, relay secret accepted/);
    const c = await openSession(relay.smtp);
    expect((await c.command("MAIL FROM:<sender@remote.test>"))?.code).toBe(250);
    expect((await c.command(`RCPT TO:<${USER}>`))?.code).toBe(250);
    expect((await c.command("DATA"))?.code).toBe(354);
    expect((await c.command("Subject: through-the-binary\r\n\r\nhello\r\n."))?.code).toBe(250);
    c.close();
    expect((await listMessages(edge)).map((m) => m.subject)).toContain("through-the-binary");
    process.kill(relay.pid, "SIGTERM");
    expect(await relay.exited).toBe(0);
    await relay.stop();
  });
});
