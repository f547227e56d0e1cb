/**
 * Debian's pebble (a small RFC 8555 CA for tests) and pebble-challtestsrv (its DNS: every name is
 * 127.0.0.1, TXT records set through a management API), started on free loopback ports. Pebble's own
 * HTTPS uses a throw-away CA made here with openssl; the relay trusts it through `tls.acme.caFile`.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./harness.ts";
import { type Daemon, startDaemon, waitForPort } from "./tools.ts";

export interface Pebble {
  directoryUrl: string;
  /** The CA that signs pebble's HTTPS (for the client), not the one that signs issued certificates. */
  caFile: string;
  /** PEM of the root that signs issued certificates (pebble makes a new one per run). */
  issuerRoot(): Promise<string>;
  /** challtestsrv's management API: set/clear a TXT record. */
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "ignore" });
}

/** `httpPort`: where pebble's validator connects for HTTP-01 (the relay's ACME responder). */
export async function startPebble(dir: string, httpPort: number): Promise<Pebble> {
  const ca = { key: join(dir, "pebble-ca.key"), cert: join(dir, "pebble-ca.crt") };
  openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"].concat([
      "-subj",
      "/CN=pebble test CA",
      "-keyout",
      ca.key,
      "-out",
      ca.cert,
    ]),
  );
  const leaf = { key: join(dir, "pebble.key"), cert: join(dir, "pebble.crt"), csr: join(dir, "pebble.csr") };
  openssl(
    [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=localhost",
    ].concat(["-keyout", leaf.key, "-out", leaf.csr]),
  );
  const ext = join(dir, "pebble.ext");
  writeFileSync(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl(
    ["x509", "-req", "-in", leaf.csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial"].concat([
      "-days",
      "2",
      "-extfile",
      ext,
      "-out",
      leaf.cert,
    ]),
  );

  const acmePort = await freePort();
  const mgmtPort = await freePort();
  const dnsPort = await freePort();
  const chalMgmt = await freePort();
  const config = join(dir, "pebble.json");
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: leaf.cert,
        privateKey: leaf.key,
        httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const dns: Daemon = startDaemon("pebble-challtestsrv", [
    "-defaultIPv4",
    "127.0.0.1",
    "-defaultIPv6",
    "",
    "-dns01",
    `127.0.0.1:${dnsPort}`,
    "-management",
    `127.0.0.1:${chalMgmt}`,
    "-http01",
    "",
    "-https01",
    "",
    "-tlsalpn01",
    "",
  ]);
  // NOSLEEP: no random validation delay. Nonces are never rejected at random; authorizations are not
  // reused, so a renewal validates again. (PEBBLE_VA_ALWAYS_VALID is NOT set: validation is real.)
  process.env.PEBBLE_VA_NOSLEEP = "1";
  process.env.PEBBLE_WFE_NONCEREJECT = "0";
  process.env.PEBBLE_AUTHZREUSE = "0";
  const pebble = startDaemon("pebble", ["-config", config, "-dnsserver", `127.0.0.1:${dnsPort}`]);
  await waitForPort(chalMgmt);
  await waitForPort(acmePort);
  await waitForPort(mgmtPort);
  const caPem = execFileSync("cat", [ca.cert]).toString();
  const https = async (url: string, init?: RequestInit) => {
    const { Agent, request } = await import("node:https");
    return new Promise<string>((resolve, reject) => {
      const req = request(url, { method: init?.method ?? "GET", agent: new Agent({ ca: caPem }) }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve(body));
      });
      req.once("error", reject);
      req.end();
    });
  };
  const mgmt = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${chalMgmt}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`challtestsrv ${path}: ${res.status}`);
  };
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    caFile: ca.cert,
    issuerRoot: () => https(`https://127.0.0.1:${mgmtPort}/roots/0`),
    setTxt: (host, value) => mgmt("/set-txt", { host, value }),
    clearTxt: (host) => mgmt("/clear-txt", { host }),
    output: () => pebble.output() + dns.output(),
    async stop() {
      await pebble.stop();
      await dns.stop();
    },
  };
}

/**
 * Python's ssl (a client independent of Node's) connects with certificate and hostname verification
 * against `caFile`; prints the served certificate's SHA-256 fingerprint, or raises.
 */
export function pythonTlsFingerprint(port: number, servername: string, caFile: string): string {
  const script = [
    "import ssl, socket, sys, hashlib",
    "ctx = ssl.create_default_context(cafile=sys.argv[3])",
    "s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10), server_hostname=sys.argv[2])",
    "print(hashlib.sha256(s.getpeercert(True)).hexdigest())",
    "s.close()",
  ].join("\n");
  return execFileSync("python3", ["-c", script, String(port), servername, caFile], { timeout: 20_000 })
    .toString()
    .trim();
}
