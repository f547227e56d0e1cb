/**
 * A domain set up the way the README tells a newcomer, against the real server:
 *  - `dkim generate` makes a key that mailauth signs with and python3-dkim (dkimpy) verifies, using the
 *    TXT record that `mxedge dns` printed;
 *  - `dns check` against static zone files: the printed records (all OK), one removed (missing), one
 *    changed (different);
 *  - the edge serves the MTA-STS policy, Thunderbird autoconfig and an Apple profile with the
 *    configured host and ports (parsed by Python's xml.etree and plistlib).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { dkimSign } from "mailauth";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEmbeddedStore } from "../../edge/embedded.ts";
import { DkimKeys } from "../../src/admin/dkim-store.ts";
import { parseZone } from "../../src/dns/zone.ts";
import { cli, python, type RunningMxedge, startMxedge } from "./harness.ts";
import { requireTools } from "./tools.ts";

const enabled = requireTools("python3");

const VERIFY = `import sys, dkim
msg = sys.stdin.buffer.read()
txt = sys.argv[1].encode()
def dns(name, timeout=5):
    return txt if name.decode().rstrip(".") == sys.argv[2] else None
print("pass" if dkim.verify(msg, dnsfunc=dns) else "fail")`;

function get(
  port: number,
  host: string,
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe.runIf(enabled)("setting up a domain: DKIM, DNS records, MTA-STS and client autoconfig", () => {
  let mx: RunningMxedge;
  let zone = "";

  /** Admin commands on the server's data directory, with the server's host name and ports. */
  const local = (args: string[]) => {
    const flags = ["--hostname", "mx.e2e.test"];
    for (const [k, v] of Object.entries(mx.ports)) flags.push(`--${k}`, String(v));
    return mx.cli([...args, ...flags]);
  };

  beforeAll(async () => {
    mx = await startMxedge();
    expect((await mx.cli(["domain", "add", "setup.test"])).code).toBe(0);
    expect((await mx.cli(["domain", "set", "setup.test", "--mta-sts", "enforce"])).code).toBe(0);
    const gen = await mx.cli(["dkim", "generate", "setup.test", "--selector", "k1"]);
    expect(gen.code, gen.stderr).toBe(0);
    const ed = await mx.cli(["dkim", "generate", "setup.test", "--algo", "ed25519", "--selector", "e1"]);
    expect(ed.code, ed.stderr).toBe(0);
    // The zone from the running server over HTTP: its own host name and ports.
    const dns = await cli(["dns", "setup.test", "--edge", `http://127.0.0.1:${mx.ports.http}`], {
      env: { MXEDGE_ADMIN_TOKEN: mx.adminToken },
    });
    expect(dns.code, dns.stderr).toBe(0);
    zone = dns.stdout;
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("private keys are stored encrypted, and decrypt with the data directory's dkim.key", async () => {
    const opened = await openEmbeddedStore(mx.dataDir);
    try {
      const secret = readFileSync(join(mx.dataDir, "dkim.key"), "utf8").trim();
      const raw = execFileSync("python3", [
        "-c",
        "import sqlite3,sys; print('\\n'.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select private_key from dkim_keys')))",
        join(mx.dataDir, "mxedge.db"),
      ]).toString();
      expect(raw).not.toMatch(/PRIVATE KEY/);
      expect(raw).toMatch(/^v1:/m);
      expect(
        await new DkimKeys(opened.store.db, "a-different-secret-value")
          .signingKeys("setup.test")
          .catch((e: Error) => e.message),
      ).toMatch(/wrong key-encryption secret/);
      const keys = await new DkimKeys(opened.store.db, secret).signingKeys("setup.test");
      expect(keys.map((k) => k.selector).sort()).toEqual(["e1", "k1"]);
    } finally {
      opened.close();
    }
  });

  it.runIf(requireTools("python3"))(
    "mailauth signs with each generated key and dkimpy verifies it with the TXT record mxedge dns printed",
    async () => {
      const opened = await openEmbeddedStore(mx.dataDir);
      const secret = readFileSync(join(mx.dataDir, "dkim.key"), "utf8").trim();
      const keys = await new DkimKeys(opened.store.db, secret).signingKeys("setup.test");
      opened.close();
      const records = parseZone(zone).records;
      for (const key of keys) {
        const name = `${key.selector}._domainkey.setup.test`;
        const txt = ((records.get(name)?.get("TXT")?.[0] ?? []) as string[]).join("");
        expect(txt).toMatch(key.algorithm === "ed25519" ? /^v=DKIM1; k=ed25519; p=/ : /^v=DKIM1; k=rsa; p=/);
        const message = `From: Ann <ann@setup.test>\r\nTo: bob@example.org\r\nSubject: signed by ${key.selector}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${key.selector}@setup.test>\r\n\r\nHello.\r\n`;
        // mailauth signs with `signatureData` entries (its .d.ts only lists the top-level form).
        const options = {
          canonicalization: "relaxed/relaxed",
          signatureData: [
            {
              signingDomain: "setup.test",
              selector: key.selector,
              privateKey: key.privateKeyPem,
              algorithm: key.algorithm === "ed25519" ? "ed25519-sha256" : "rsa-sha256",
            },
          ],
        };
        const signed = await dkimSign(message, options as unknown as Parameters<typeof dkimSign>[1]);
        expect(signed.errors).toEqual([]);
        expect(signed.signatures).toMatch(
          new RegExp(
            `^DKIM-Signature: .*a=${key.algorithm === "ed25519" ? "ed25519" : "rsa"}-sha256;.*s=${key.selector};`,
            "s",
          ),
        );
        const verdict = execFileSync("/usr/bin/python3", ["-c", VERIFY, txt, name], {
          input: signed.signatures + message,
        })
          .toString()
          .trim();
        expect(verdict, key.selector).toBe("pass");
        // The same check with a tampered body must fail, so the pass above means something.
        const tampered = execFileSync("/usr/bin/python3", ["-c", VERIFY, txt, name], {
          input: `${signed.signatures + message}tampered\r\n`,
        })
          .toString()
          .trim();
        expect(tampered).toBe("fail");
      }
    },
  );

  it("dns check: the printed records are all OK, a removed one is missing, a changed one different", async () => {
    const check = async (text: string) => {
      const file = join(mx.dataDir, `check-${Math.random().toString(36).slice(2)}.zone`);
      writeFileSync(file, text);
      return local(["dns", "check", "setup.test", "--dns-zone", file]);
    };
    const ok = await check(zone);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/\nall records OK\n$/);
    expect(ok.stdout.match(/^OK /gm)).toHaveLength(11);

    const missing = await check(
      zone
        .split("\n")
        .filter((l) => !l.startsWith("_dmarc "))
        .join("\n"),
    );
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^MISSING +TXT +_dmarc\.setup\.test +DMARC$/m);
    expect(missing.stdout.match(/^OK /gm)).toHaveLength(10);
    expect(missing.stdout).toMatch(/\n1 of 11 records need attention\n$/);

    const different = await check(zone.replace("10 mx.e2e.test.", "10 mail.elsewhere.test."));
    expect(different.code).toBe(1);
    expect(different.stdout).toMatch(/^DIFFERENT +MX +setup\.test +MX$/m);
    expect(different.stdout).toMatch(
      / {2}expected {2}10 mx\.e2e\.test\n {2}found {5}10 mail\.elsewhere\.test/,
    );
  });

  it("webhook add and webhook test: a signed test delivery reaches the endpoint", async () => {
    const received: Array<{ headers: Record<string, string>; body: string }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", () => {
        received.push({ headers: req.headers as Record<string, string>, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const config = join(mx.dataDir, "webhooks.json");
      writeFileSync(config, JSON.stringify({ webhookAllow: ["127.0.0.0/8"] }));
      const added = await local([
        "webhook",
        "add",
        "desk",
        `http://127.0.0.1:${port}/hook`,
        "--config",
        config,
      ]);
      expect(added.code, added.stderr).toBe(0);
      const secret = /signing secret \(Standard Webhooks\): (whsec_\S+)/.exec(added.stdout)?.[1] ?? "";
      const tested = await local(["webhook", "test", "desk", "--config", config]);
      expect(tested).toMatchObject({ code: 0, stdout: `desk: http://127.0.0.1:${port}/hook answered 204\n` });
      expect(received).toHaveLength(1);
      const payload = new Webhook(secret).verify(received[0]?.body ?? "", received[0]?.headers ?? {}) as {
        subject?: string;
      };
      expect(JSON.stringify(payload)).toMatch(/mxedge webhook test/);
    } finally {
      server.close();
    }
  });

  it("serves the MTA-STS policy by host name, with the mode and mx line", async () => {
    const policy = await get(mx.ports.http, "mta-sts.setup.test", "/.well-known/mta-sts.txt");
    expect(policy.status).toBe(200);
    expect(policy.type).toMatch(/^text\/plain/);
    expect(policy.body).toBe("version: STSv1\r\nmode: enforce\r\nmx: mx.e2e.test\r\nmax_age: 604800\r\n");
    expect((await get(mx.ports.http, "mta-sts.unknown.test", "/.well-known/mta-sts.txt")).status).toBe(404);
    expect((await get(mx.ports.http, "setup.test", "/.well-known/mta-sts.txt")).status).toBe(404);
    // The _mta-sts id in the printed zone changes with the policy.
    const before = /_mta-sts +3600 IN TXT +"v=STSv1; id=(\w+)"/.exec(zone)?.[1];
    expect((await mx.cli(["domain", "set", "setup.test", "--mta-sts", "testing"])).code).toBe(0);
    const after = /_mta-sts +3600 IN TXT +"v=STSv1; id=(\w+)"/.exec(
      (await local(["dns", "setup.test"])).stdout,
    )?.[1];
    expect(after).toMatch(/^\w{20}$/);
    expect(after).not.toBe(before);
    expect((await get(mx.ports.http, "mta-sts.setup.test", "/.well-known/mta-sts.txt")).body).toMatch(
      /^mode: testing\r$/m,
    );
  });

  it("serves Thunderbird autoconfig and an Apple profile naming the configured host and ports", async () => {
    const PARSE = `import sys, json, plistlib, xml.etree.ElementTree as ET
kind, text = sys.argv[1], sys.argv[2]
if kind == "xml":
    root = ET.fromstring(text)
    p = root.find("emailProvider")
    servers = [dict(tag=s.tag, type=s.get("type"), host=s.findtext("hostname"), port=int(s.findtext("port")), socket=s.findtext("socketType"), user=s.findtext("username")) for s in list(p) if s.tag.endswith("Server")]
    print(json.dumps(dict(id=p.get("id"), domain=p.findtext("domain"), servers=servers)))
else:
    pl = plistlib.loads(text.encode())
    print(json.dumps(dict(type=pl["PayloadType"], accounts=pl["PayloadContent"], text=text)))`;
    const viaHost = await get(mx.ports.http, "autoconfig.setup.test", "/mail/config-v1.1.xml");
    const viaAddress = await get(
      mx.ports.http,
      "127.0.0.1",
      "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ann%40setup.test",
    );
    expect(viaHost.status).toBe(200);
    expect(viaHost.type).toMatch(/xml/);
    expect(viaAddress.body).toBe(viaHost.body);
    const viaApex = await get(mx.ports.http, "setup.test", "/.well-known/autoconfig/mail/config-v1.1.xml");
    expect(viaApex.body).toBe(viaHost.body);
    const tb = JSON.parse(await python(PARSE, ["xml", viaHost.body]));
    expect(tb).toEqual({
      id: "setup.test",
      domain: "setup.test",
      servers: [
        {
          tag: "incomingServer",
          type: "imap",
          host: "mx.e2e.test",
          port: mx.ports.imaps,
          socket: "SSL",
          user: "%EMAILADDRESS%",
        },
        {
          tag: "incomingServer",
          type: "imap",
          host: "mx.e2e.test",
          port: mx.ports.imap,
          socket: "STARTTLS",
          user: "%EMAILADDRESS%",
        },
        {
          tag: "outgoingServer",
          type: "smtp",
          host: "mx.e2e.test",
          port: mx.ports.submissions,
          socket: "SSL",
          user: "%EMAILADDRESS%",
        },
        {
          tag: "outgoingServer",
          type: "smtp",
          host: "mx.e2e.test",
          port: mx.ports.submission,
          socket: "STARTTLS",
          user: "%EMAILADDRESS%",
        },
      ],
    });
    expect((await get(mx.ports.http, "autoconfig.unknown.test", "/mail/config-v1.1.xml")).status).toBe(404);

    const profile = await get(mx.ports.http, "127.0.0.1", "/mail/mobileconfig?emailaddress=ann%40setup.test");
    expect(profile.status).toBe(200);
    expect(profile.type).toBe("application/x-apple-aspen-config");
    const apple = JSON.parse(await python(PARSE, ["plist", profile.body]));
    expect(apple.type).toBe("Configuration");
    expect(apple.accounts).toEqual([
      expect.objectContaining({
        PayloadType: "com.apple.mail.managed",
        EmailAddress: "ann@setup.test",
        EmailAccountType: "EmailTypeIMAP",
        IncomingMailServerHostName: "mx.e2e.test",
        IncomingMailServerPortNumber: mx.ports.imaps,
        IncomingMailServerUseSSL: true,
        IncomingMailServerUsername: "ann@setup.test",
        OutgoingMailServerHostName: "mx.e2e.test",
        OutgoingMailServerPortNumber: mx.ports.submissions,
        OutgoingMailServerUseSSL: true,
      }),
    ]);
    expect(profile.body).not.toMatch(/Password<\/key>\s*<string>/);
    expect(
      Object.keys(apple.accounts[0]).filter(
        (k) => /Password$/.test(k) && k !== "OutgoingPasswordSameAsIncomingPassword",
      ),
    ).toEqual([]);
  });
});
