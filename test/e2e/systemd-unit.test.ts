/**
 * relay/systemd/mxedge-relay.service passes `systemd-analyze verify` (Debian's systemd) and keeps its
 * hardening: DynamicUser, only CAP_NET_BIND_SERVICE, ProtectSystem=strict, a StateDirectory, the
 * secret as a credential, SIGHUP reload and a stop timeout longer than the drain's grace period.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";
import { requireTools } from "./tools.ts";

const run = promisify(execFile);
const UNIT = join(ROOT, "relay/systemd/mxedge-relay.service");

describe.runIf(requireTools("systemd-analyze"))("systemd unit", () => {
  it("verifies, and is hardened", async () => {
    const text = readFileSync(UNIT, "utf8");
    for (const line of [
      "DynamicUser=yes",
      "AmbientCapabilities=CAP_NET_BIND_SERVICE",
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
      "ProtectSystem=strict",
      "StateDirectory=mxedge",
      "NoNewPrivileges=yes",
      "LoadCredential=relay-secret:/etc/mxedge/relay-secret",
      "ExecReload=/bin/kill -HUP $MAINPID",
    ])
      expect(text.split("\n")).toContain(line);
    const stopSec = Number(/^TimeoutStopSec=(\d+)$/m.exec(text)?.[1]);
    expect(stopSec).toBeGreaterThan(30); // longer than the default 30 s drain
    expect(text).not.toMatch(/MXEDGE_RELAY_SECRET=/); // never inline

    // verify checks that ExecStart exists: point it at a real executable in a scratch copy.
    const dir = mkdtempSync(join(tmpdir(), "mxedge-unit-"));
    try {
      const copy = join(dir, "mxedge-relay.service");
      writeFileSync(copy, text.replaceAll("/usr/local/bin/mxedge", process.execPath));
      const verify = await run("systemd-analyze", ["verify", copy]).catch((e: { stderr: string }) => e);
      expect(verify.stderr.trim()).toBe("");
      const security = await run("systemd-analyze", ["security", "--offline=yes", copy]);
      const exposure = Number(/Overall exposure level for \S+: (\d+\.\d+)/.exec(security.stdout)?.[1]);
      expect(exposure).toBeLessThanOrEqual(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
