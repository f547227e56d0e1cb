/**
 * ACME against a real RFC 8555 server (Debian's pebble, with real validation):
 *  - HTTP-01: the relay answers pebble's validator on its challenge port, gets a certificate, and serves
 *    it on its implicit-TLS listener (checked by Python's ssl against pebble's root); made near expiry,
 *    it is renewed; with the CA gone, the failure is logged and on /readyz while the listener keeps
 *    serving the still-valid certificate.
 *  - DNS-01 through a local stand-in for Cloudflare's DNS records API, which records the TXT create and
 *    delete calls and publishes the record in pebble's DNS (challtestsrv), so pebble validates for real.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certFingerprint, writeSelfSigned } from "../support/self-signed.ts";
import { freePort, type RunningMxedge, startMxedge } from "./harness.ts";
import { type Pebble, pythonTlsFingerprint, startPebble } from "./pebble.ts";
import { requireTools } from "./tools.ts";

const enabled = requireTools("pebble", "pebble-challtestsrv", "openssl", "python3");
const dir = mkdtempSync(join(tmpdir(), "mxedge-acme-"));
let pebble: Pebble;
let acmeHttpPort = 0;
let root = "";
const rootFile = join(dir, "pebble-root.pem");
const stopLater: Array<() => Promise<void>> = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  log: () => string = () => "",
  ms = 30_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${log().slice(-3000)}`);
    await sleep(100);
  }
}
const count = (text: string, event: string) => text.split(`"event":"${event}"`).length - 1;

function acmeToml(extra: string[]): string {
  return [
    "[tls.acme]",
    `directoryUrl = "${pebble.directoryUrl}"`,
    `caFile = "${pebble.caFile}"`,
    "selfCheck = false",
    "checkIntervalMs = 300",
    "retryBaseMs = 300",
    "retryMaxMs = 1000",
    ...extra,
  ].join("\n");
}

async function serveWith(
  where: string,
  name: string,
  toml: string,
  env: Record<string, string> = {},
): Promise<RunningMxedge> {
  const file = join(where, `${name}.toml`);
  writeFileSync(file, toml);
  const mx = await startMxedge({ args: ["--config", file], env });
  stopLater.push(() => mx.stop());
  return mx;
}

/** A certificate for `name` that expires in 10 days: inside the 30-day renewal window. */
function nearExpiry(name: string, certPath: string, keyPath: string): string {
  writeSelfSigned({ certPath, keyPath, cn: name, san: `DNS:${name}`, days: 10 });
  return certFingerprint(certPath).replaceAll(":", "").toLowerCase();
}

describe.runIf(enabled)("ACME (pebble)", () => {
  beforeAll(async () => {
    acmeHttpPort = await freePort();
    pebble = await startPebble(dir, acmeHttpPort);
    root = await pebble.issuerRoot();
    writeFileSync(rootFile, root);
  });
  afterAll(async () => {
    for (const s of stopLater) await s();
    await pebble?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("HTTP-01: issues, serves on implicit TLS, renews near expiry, survives a failed renewal", async () => {
    const name = "mx.acme.test";
    const mx = await serveWith(
      dir,
      "http01",
      acmeToml([
        `domains = ["${name}"]`,
        'challenge = "http-01"',
        "[tls.acme.http]",
        'host = "127.0.0.1"',
        `port = ${acmeHttpPort}`,
      ]),
    );
    await waitFor("the first certificate", () => count(mx.output(), "acme.issued") >= 1, mx.output);
    const issued = pythonTlsFingerprint(mx.ports.submissions, name, rootFile);
    expect(issued).toMatch(/^[0-9a-f]{64}$/);
    const certPath = join(mx.dataDir, "acme/certificate.pem");
    const keyPath = join(mx.dataDir, "acme/certificate.key");
    for (const p of [certPath, keyPath, join(mx.dataDir, "acme/account.key")])
      expect(statSync(p).mode & 0o777).toBe(0o600);
    // The challenge port answers nothing but challenges.
    expect((await fetch(`http://127.0.0.1:${acmeHttpPort}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${acmeHttpPort}/.well-known/acme-challenge/nope`)).status).toBe(
      404,
    );

    // Near expiry: the stored certificate is replaced by one with 10 days left; the relay renews it.
    nearExpiry(name, certPath, keyPath);
    await waitFor("the renewal", () => count(mx.output(), "acme.issued") >= 2, mx.output);
    const renewed = pythonTlsFingerprint(mx.ports.submissions, name, rootFile);
    expect(renewed).not.toBe(issued);

    // The CA goes away and the certificate is near expiry again: the failure is logged, retried, shown
    // on /readyz, and the listener keeps serving the (still valid) certificate it has.
    await pebble.stop();
    const old = nearExpiry(name, certPath, keyPath);
    await waitFor("two failed attempts", () => count(mx.output(), "acme.failed") >= 2, mx.output);
    const served = execFileSync("python3", [
      "-c",
      "import ssl,socket,sys,hashlib;c=ssl.create_default_context();c.check_hostname=False;c.verify_mode=ssl.CERT_NONE;s=c.wrap_socket(socket.create_connection(('127.0.0.1',int(sys.argv[1]))),server_hostname=sys.argv[2]);print(hashlib.sha256(s.getpeercert(True)).hexdigest())",
      String(mx.ports.submissions),
      name,
    ])
      .toString()
      .trim();
    expect(served).toBe(old);
    const ready = await fetch(`http://127.0.0.1:${mx.ports.http}/readyz`);
    const body = (await ready.json()) as {
      problems: string[];
      acme: { lastError: string; failures: number };
    };
    expect(ready.status).toBe(200); // a valid certificate is still served
    expect(body.problems.join("\n")).toMatch(/acme: certificate order failed/);
    expect(body.acme.failures).toBeGreaterThanOrEqual(2);
  });
});

describe.runIf(enabled)("ACME DNS-01 via a Cloudflare API stand-in", () => {
  let cf: Server;
  const calls: Array<{ method: string; path: string; auth: string; body: string }> = [];
  let pebble2: Pebble;
  const dir2 = mkdtempSync(join(tmpdir(), "mxedge-acme-dns-"));
  beforeAll(async () => {
    pebble2 = await startPebble(dir2, await freePort());
    writeFileSync(join(dir2, "root.pem"), await pebble2.issuerRoot());
    const records = new Map<string, string>();
    cf = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", async () => {
        calls.push({
          method: req.method ?? "",
          path: req.url ?? "",
          auth: req.headers.authorization ?? "",
          body,
        });
        const json = (result: unknown, status = 200) =>
          res
            .writeHead(status, { "content-type": "application/json" })
            .end(JSON.stringify({ success: status < 300, errors: [], result }));
        if (req.headers.authorization !== "Bearer cf-test-token") return json(null, 403);
        const url = new URL(req.url ?? "/", "http://cf");
        if (req.method === "GET" && url.pathname === "/zones") {
          const name = url.searchParams.get("name");
          return json(name === "acme.test" ? [{ id: "zone-1", name: "acme.test" }] : []);
        }
        const m = /^\/zones\/zone-1\/dns_records(?:\/(.+))?$/.exec(url.pathname);
        if (m && req.method === "POST") {
          const rec = JSON.parse(body) as { type: string; name: string; content: string };
          const id = `rec-${records.size + 1}`;
          records.set(id, rec.name);
          await pebble2.setTxt(`${rec.name}.`, rec.content);
          return json({ id, ...rec });
        }
        if (m?.[1] && req.method === "DELETE") {
          const name = records.get(m[1]);
          if (name) await pebble2.clearTxt(`${name}.`);
          return json({ id: m[1] });
        }
        json(null, 404);
      });
    });
    await new Promise<void>((r) => cf.listen(0, "127.0.0.1", () => r()));
  });
  afterAll(async () => {
    cf?.close();
    await pebble2?.stop();
    rmSync(dir2, { recursive: true, force: true });
  });

  it("creates the TXT record, pebble validates it over DNS, the record is deleted, the cert is served", async () => {
    const address = cf.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const name = "dns.acme.test";
    const toml = [
      "[tls.acme]",
      `directoryUrl = "${pebble2.directoryUrl}"`,
      `caFile = "${pebble2.caFile}"`,
      "selfCheck = false",
      `domains = ["${name}"]`,
      'challenge = "dns-01"',
      "[tls.acme.cloudflare]",
      `apiUrl = "http://127.0.0.1:${port}/client/v4"`.replace("/client/v4", ""),
      "propagationMs = 0",
    ].join("\n");
    const mx = await serveWith(dir2, "dns01", toml, { MXEDGE_CLOUDFLARE_TOKEN: "cf-test-token" });
    await waitFor("the certificate", () => count(mx.output(), "acme.issued") >= 1, mx.output);
    expect(pythonTlsFingerprint(mx.ports.submissions, name, join(dir2, "root.pem"))).toMatch(
      /^[0-9a-f]{64}$/,
    );
    const create = calls.find((c) => c.method === "POST");
    expect(create?.path).toBe("/zones/zone-1/dns_records");
    expect(JSON.parse(create?.body ?? "{}")).toMatchObject({ type: "TXT", name: `_acme-challenge.${name}` });
    expect(calls.every((c) => c.auth === "Bearer cf-test-token")).toBe(true);
    await waitFor("the delete", () => calls.some((c) => c.method === "DELETE"), mx.output);
    expect(calls.find((c) => c.method === "DELETE")?.path).toMatch(/^\/zones\/zone-1\/dns_records\/rec-1$/);
  });
});
