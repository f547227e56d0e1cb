/** The admin commands against an embedded data directory: aliases, webhook endpoints and the outbox. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./harness.ts";

const data = mkdtempSync(join(tmpdir(), "mxedge-cli-"));
const run = (args: string[], stdin?: string) => cli([...args, "--data", data], { stdin });

describe("mxedge admin commands", () => {
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it("adds aliases and refuses external targets with a clear message", async () => {
    expect((await run(["domain", "add", "cli.test"])).code).toBe(0);
    expect((await run(["user", "add", "ann@cli.test", "--password-stdin"], "ann-password")).code).toBe(0);
    expect(await run(["alias", "add", "team@cli.test", "ann@cli.test"])).toMatchObject({
      code: 0,
      stdout: "added alias team@cli.test → ann@cli.test\n",
    });
    expect((await run(["alias", "add", "*@cli.test", "ann@cli.test"])).code).toBe(0);
    expect((await run(["alias", "add", "noreply@cli.test", "discard"])).code).toBe(0);
    const external = await run(["alias", "add", "fwd@cli.test", "someone@elsewhere.test"]);
    expect(external.code).toBe(1);
    expect(external.stderr).toMatch(
      /^mxedge: someone@elsewhere\.test is not in one of our domains: forwarding to external addresses needs outbound delivery/,
    );
  });

  it("lists webhooks and deliveries (human and --json) and reports an unknown redelivery", async () => {
    expect(await run(["webhook", "list"])).toMatchObject({ code: 0, stdout: "(no webhooks)\n" });
    expect(await run(["deliveries", "--state", "pending", "--json"])).toMatchObject({
      code: 0,
      stdout: "[]\n",
    });
    const r = await run(["webhook", "redeliver", "nope"]);
    expect(r).toMatchObject({ code: 1, stderr: "mxedge: no delivery nope\n" });
  });
});
