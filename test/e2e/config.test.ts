/** Bad configuration: one line naming the field (or flag) and the problem, a non-zero exit, no stack trace. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "mxedge-config-"));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("configuration errors", () => {
  it("a port flag that is not a port", async () => {
    expectOneLineError(
      await cli(["serve", "--smtp", "99999", "--data", dir]),
      /^mxedge: config error: --smtp: expected a port number 0-65535, got "99999"$/,
    );
  });

  it("an environment variable that is not a port", async () => {
    expectOneLineError(
      await cli(["config", "check"], { env: { MXEDGE_HTTP: "http" } }),
      /^mxedge: config error: MXEDGE_HTTP: expected a port/,
    );
  });

  it("a field out of range in the config file", async () => {
    const p = file("range.toml", '[[listeners]]\nname = "smtp"\nrole = "mx"\nport = 70000\n');
    expectOneLineError(
      await cli(["serve", "--config", p]),
      /config file .*range\.toml: listeners\.0\.port: Too big: expected number to be <=65535$/,
    );
  });

  it("an unknown key", async () => {
    const p = file("unknown.toml", "hostnme = 'mx.example.com'\n");
    expectOneLineError(await cli(["config", "check", "--config", p]), /: Unrecognized key: "hostnme"$/);
  });

  it("a wrong type and an invalid enum value", async () => {
    const p = file("type.json", JSON.stringify({ limits: { maxMessageBytes: "big" } }));
    expectOneLineError(
      await cli(["config", "check", "--config", p]),
      /limits\.maxMessageBytes: Invalid input: expected number, received string$/,
    );
    const q = file("role.toml", '[[listeners]]\nname = "x"\nrole = "pop3"\nport = 110\n');
    expectOneLineError(await cli(["config", "check", "--config", q]), /listeners\.0\.role: Invalid option/);
  });

  it("a file that is not TOML, and a file that does not exist", async () => {
    expectOneLineError(
      await cli(["config", "check", "--config", file("broken.toml", "this is = = not toml")]),
      /config file .*broken\.toml:1:\d+: /,
    );
    // The line and column of the error, so a long file's mistake can be found.
    const long = file("long.toml", 'hostname = "mx.example.net"\n\n[limits]\nmaxMessageBytes = = 5\n');
    expectOneLineError(
      await cli(["config", "check", "--config", long]),
      /config file .*long\.toml:4:19: Invalid TOML document/,
    );
    expectOneLineError(
      await cli(["config", "check", "--config", join(dir, "missing.toml")]),
      /config file .*missing\.toml: not found$/,
    );
  });

  it("a malformed trusted-proxy CIDR, globally or on a listener", async () => {
    const p = file("cidr.toml", '[proxy]\ntrusted = ["10.0.0.0/8", "10.0.0.1/8"]\n');
    expectOneLineError(
      await cli(["config", "check", "--config", p]),
      /: proxy\.trusted\[1\]: invalid CIDR "10\.0\.0\.1\/8": host bits are set/,
    );
    const q = file(
      "cidr2.toml",
      '[[listeners]]\nname = "smtp"\nrole = "mx"\nport = 25\nproxy = { trusted = ["300.1.1.1"] }\n',
    );
    expectOneLineError(
      await cli(["config", "check", "--config", q]),
      /: listeners\.0\.proxy\.trusted\[0\]: invalid CIDR "300\.1\.1\.1"/,
    );
  });

  it("a webhook URL in a private range, unless allowlisted", async () => {
    const secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0";
    const p = file(
      "ssrf.toml",
      `[[webhooks]]\nname = "x"\nurl = "http://169.254.169.254/latest"\nsecret = "${secret}"\n`,
    );
    expectOneLineError(
      await cli(["config", "check", "--config", p]),
      /: webhooks\.0\.url: 169\.254\.169\.254 is a loopback, private, link-local or reserved address \(allow it with webhookAllow\)$/,
    );
    const q = file(
      "allowed.toml",
      `webhookAllow = ["127.0.0.0/8"]\n[[webhooks]]\nname = "x"\nurl = "http://127.0.0.1:9/in"\nsecret = "${secret}"\n`,
    );
    expect((await cli(["config", "check", "--config", q])).code).toBe(0);
  });

  it("an unknown flag or command", async () => {
    const r = await cli(["serve", "--smtpp", "25"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toMatch(/^mxedge: Unknown option '--smtpp'/);
    expectOneLineError(await cli(["frobnicate"]), /^mxedge: unknown command: frobnicate$/);
  });

  it("a valid file passes `config check`", async () => {
    const p = file("good.toml", 'hostname = "mx.example.com"\n[http]\nport = 9000\n');
    const r = await cli(["config", "check", "--config", p, "--smtp", "2600"]);
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(r.stdout) as {
      hostname: string;
      http: { port: number };
      listeners: Array<{ name: string; port: number }>;
    };
    expect(cfg.hostname).toBe("mx.example.com");
    expect(cfg.http.port).toBe(9000);
    expect(cfg.listeners.find((l) => l.name === "smtp")?.port).toBe(2600);
  });
});
