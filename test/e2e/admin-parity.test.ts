/**
 * CLI parity: every admin command runs twice, once on an embedded data directory (the edge app built
 * in the CLI's own process) and once against a running `mxedge serve` over HTTP (--edge URL, token from
 * MXEDGE_ADMIN_TOKEN), and both must print the same thing and exit the same way. Random material
 * (DKIM keys, webhook secrets, timestamps) is masked before comparing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, type RunningMxedge, startMxedge } from "./harness.ts";

type Result = { code: number; stdout: string; stderr: string };

const mask = (r: Result): Result => {
  const m = (s: string) =>
    s
      .replace(/whsec_[A-Za-z0-9+/=]+/g, "whsec_<secret>")
      .replace(/[A-Za-z0-9+/]{40,}={0,2}/g, "<base64>")
      .replace(/"(createdAt|retiredAt)": \d+/g, '"$1": <ms>');
  return { code: r.code, stdout: m(r.stdout), stderr: m(r.stderr) };
};

describe("admin CLI parity: embedded data directory and remote edge", () => {
  let mx: RunningMxedge;
  const dir = mkdtempSync(join(tmpdir(), "mxedge-parity-"));
  const embeddedData = join(dir, "embedded");
  const zone = join(dir, "empty.zone");
  const passwd = join(dir, "passwd");
  let embedded: (args: string[], stdin?: string) => Promise<Result>;
  let remote: (args: string[], stdin?: string, env?: Record<string, string>) => Promise<Result>;

  beforeAll(async () => {
    writeFileSync(zone, "; nothing published yet\n");
    writeFileSync(
      passwd,
      [
        "carl@par.test:{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5::::::",
        "dora@par.test:{PLAIN}secret",
        "",
      ].join("\n"),
    );
    mx = await startMxedge({ env: { MXEDGE_DNS_ZONE: zone } });
    // The same host name and ports as the server, so generated records and profiles can match.
    const same = ["--hostname", "mx.e2e.test", "--dns-zone", zone];
    for (const [k, v] of Object.entries(mx.ports)) same.push(`--${k}`, String(v));
    embedded = (args, stdin) => cli([...args, "--data", embeddedData, ...same], { stdin });
    remote = (args, stdin, env = { MXEDGE_ADMIN_TOKEN: mx.adminToken }) =>
      cli([...args, "--edge", `http://127.0.0.1:${mx.ports.http}`], { stdin, env });
  });
  afterAll(async () => {
    await mx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const steps: Array<{ args: string[]; stdin?: string; code: number; out?: RegExp }> = [
    { args: ["domain", "add", "par.test"], code: 0, out: /^added domain par\.test\n/ },
    { args: ["domain", "add", "bad_name!"], code: 1 },
    { args: ["domain", "add", "par.test"], code: 1 },
    { args: ["domain", "list"], code: 0 },
    { args: ["domain", "list", "--json"], code: 0 },
    { args: ["domain", "set", "par.test", "--mta-sts", "enforce", "--dmarc-policy", "quarantine"], code: 0 },
    { args: ["domain", "set", "par.test", "--mta-sts", "sometimes"], code: 1 },
    { args: ["domain", "show", "par.test", "--json"], code: 0 },
    { args: ["user", "add", "ann@par.test", "--password-stdin"], stdin: "ann-password-1", code: 0 },
    { args: ["user", "add", "ann@par.test", "--password-stdin"], stdin: "ann-password-1", code: 1 },
    { args: ["user", "add", "bob@par.test", "--password-stdin"], stdin: "short", code: 1 },
    { args: ["user", "add", "bob@nowhere.test", "--password-stdin"], stdin: "bob-password-1", code: 1 },
    { args: ["user", "passwd", "ann@par.test", "--password-stdin"], stdin: "ann-password-2", code: 0 },
    {
      args: ["user", "import", "dovecot-passwd", passwd],
      code: 1,
      out: /^line 1: imported carl@par\.test\n/,
    },
    { args: ["user", "list"], code: 0, out: /^ann@par\.test\ncarl@par\.test\n$/ },
    { args: ["user", "list", "--json"], code: 0 },
    { args: ["alias", "add", "team@par.test", "ann@par.test", "carl@par.test"], code: 0 },
    { args: ["alias", "add", "x@par.test", "ghost@par.test"], code: 1 },
    { args: ["alias", "add", "noreply@par.test", "discard"], code: 0 },
    { args: ["alias", "add", "*@par.test", "ann@par.test"], code: 0 },
    { args: ["alias", "list"], code: 0 },
    { args: ["alias", "plus-addressing", "par.test", "off"], code: 0 },
    { args: ["alias", "rm", "team@par.test"], code: 0 },
    { args: ["alias", "rm", "team@par.test"], code: 1 },
    { args: ["alias", "list", "par.test", "--json"], code: 0 },
    { args: ["dkim", "generate", "par.test", "--selector", "s1"], code: 0 },
    { args: ["dkim", "generate", "par.test"], code: 1, out: /^$/ },
    { args: ["dkim", "generate", "par.test", "--algo", "ed25519", "--selector", "e1"], code: 0 },
    { args: ["dkim", "generate", "par.test", "--algo", "dsa"], code: 1 },
    { args: ["dkim", "rotate", "par.test", "--selector", "s2"], code: 1 },
    { args: ["dkim", "rotate", "par.test", "--algo", "rsa-2048", "--selector", "s2"], code: 0 },
    { args: ["dkim", "list", "par.test"], code: 0 },
    { args: ["dkim", "list", "par.test", "--json"], code: 0 },
    { args: ["dkim", "rm", "par.test", "s2"], code: 1 },
    { args: ["dkim", "rm", "par.test", "s1"], code: 0 },
    { args: ["dkim", "rotate", "par.test"], code: 0, out: /^retired e1, s2: keep them published/m },
    { args: ["dns", "par.test"], code: 0, out: /^\$ORIGIN par\.test\.$/m },
    { args: ["dns", "par.test", "--json"], code: 0 },
    { args: ["dns", "check", "par.test"], code: 1, out: /^MISSING +MX +par\.test +MX$/m },
    { args: ["webhook", "add", "hook", "http://127.0.0.1:9/in"], code: 1 },
    { args: ["webhook", "add", "hook", "https://hooks.example.invalid/in"], code: 0 },
    { args: ["webhook", "list"], code: 0 },
    { args: ["webhook", "test", "hook"], code: 1 },
    { args: ["webhook", "redeliver", "nope"], code: 1 },
    { args: ["deliveries", "--json"], code: 0 },
    { args: ["queue"], code: 0 },
    { args: ["messages", "list"], code: 0, out: /^\(no messages\)\n$/ },
    { args: ["messages", "show", "nope"], code: 1 },
    { args: ["user", "rm", "carl@par.test"], code: 0 },
    { args: ["domain", "rm", "par.test"], code: 1 },
    { args: ["domain", "rm", "nowhere.test"], code: 1 },
  ];

  it("every command prints the same and exits the same, embedded and remote", async () => {
    for (const step of steps) {
      const [a, b] = (
        await Promise.all([embedded(step.args, step.stdin), remote(step.args, step.stdin)])
      ).map(mask) as [Result, Result];
      const label = step.args.join(" ");
      expect(b, label).toEqual(a);
      expect(a.code, `${label}\n${a.stdout}${a.stderr}`).toBe(step.code);
      if (step.out) expect(a.stdout, label).toMatch(step.out);
      // A refusal says why on stderr; dns check and webhook test report in their table instead.
      if (step.code !== 0 && !/^(dns check|webhook test)/.test(label))
        expect(a.stderr, label).toMatch(/^mxedge: /);
    }
  }, 400_000);

  it("a remote edge refuses a wrong token, and a missing one is a usage error", async () => {
    const wrong = await remote(["domain", "list"], undefined, { MXEDGE_ADMIN_TOKEN: "not-the-token" });
    expect(wrong).toMatchObject({ code: 1, stderr: "mxedge: unauthorized: wrong or missing admin token\n" });
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, `${mx.adminToken}\n`, { mode: 0o600 });
    const viaFile = await cli(
      ["domain", "list", "--edge", `http://127.0.0.1:${mx.ports.http}`, "--token-file", tokenFile],
      {
        env: { MXEDGE_ADMIN_TOKEN: "" },
      },
    );
    expect(viaFile.code, viaFile.stderr).toBe(0);
    const none = await cli(["domain", "list", "--edge", `http://127.0.0.1:${mx.ports.http}`], {
      env: { MXEDGE_ADMIN_TOKEN: "" },
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs the admin token/);
  });
});
