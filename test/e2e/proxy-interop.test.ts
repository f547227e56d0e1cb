/**
 * The relay behind real proxies: HAProxy 2.6 (PROXY v1, v2 with CRC32C and health checks, TLS terminated
 * at HAProxy with the client certificate's CN, TLS passthrough) and nginx `stream` (v1) in front of IMAP.
 * Clients connect from 127.0.0.5; the proxies reach the relay from 127.0.0.1. Everything the relay
 * records must name 127.0.0.5.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, ROOT, type RunningMxedge, startMxedge } from "./harness.ts";
import { type Daemon, requireTools, startDaemon, waitForPort } from "./tools.ts";

const run = promisify(execFile);
const enabled = requireTools("haproxy", "nginx", "openssl", "python3");
const CLIENT_IP = "127.0.0.5";

interface ClientResult {
  ok: boolean;
  code?: number;
  reply?: string;
  error?: string;
  stage?: string;
  features?: string[];
  greeting?: string;
}

async function client(args: Record<string, unknown>): Promise<ClientResult> {
  const { stdout } = await run(
    "python3",
    [join(ROOT, "test/e2e/proxy-client.py"), JSON.stringify({ source: CLIENT_IP, ...args })],
    {
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as ClientResult;
}

/** Connects (optionally from a source address), sends bytes, and returns everything received until close. */
function rawExchange(
  port: number,
  send: string | null,
  opts: { source?: string; waitMs?: number } = {},
): Promise<{ data: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = createConnection({ port, host: "127.0.0.1", localAddress: opts.source });
    let data = "";
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, closedAfterMs: -1 });
    }, opts.waitMs ?? 5000);
    s.on("connect", () => {
      if (send !== null) s.write(send);
    });
    s.on("data", (d) => {
      data += d.toString("latin1");
    });
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ data, closedAfterMs: Date.now() - started });
    });
    s.on("error", (err) => {
      if ((err as NodeJS.ErrnoException).code === "ECONNRESET") return;
      reject(err);
    });
  });
}

function logLines(mx: RunningMxedge): Array<Record<string, unknown>> {
  return mx
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function storedConnection(mx: RunningMxedge, id: string): Record<string, unknown> {
  const db = new DatabaseSync(join(mx.dataDir, "mxedge.db"), { readOnly: true });
  try {
    const row = db.prepare("select connection from ingests where id = ?").get(id) as { connection: string };
    return (JSON.parse(row.connection) as { connection: Record<string, unknown> }).connection;
  } finally {
    db.close();
  }
}

async function rawMessage(
  mx: RunningMxedge,
  reply: string | undefined,
): Promise<{ id: string; raw: string }> {
  const id = reply?.split(" ").pop() ?? "";
  const res = await mx.api<string>(`/api/messages/${id}/raw`);
  return { id, raw: res.body };
}

describe.runIf(enabled)("behind real proxies", () => {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-proxy-"));
  const p: Record<string, number> = {};
  let mx: RunningMxedge;
  let haproxy: Daemon;
  let nginx: Daemon;

  beforeAll(async () => {
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    ssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "2",
      "-subj",
      "/CN=mxedge test CA",
    );
    for (const who of ["server", "client"]) {
      const cn = who === "server" ? "localhost" : "client.proxy.test";
      ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        `${who}.key`,
        "-out",
        `${who}.csr`,
        "-subj",
        `/CN=${cn}`,
      );
      ssl(
        "x509",
        "-req",
        "-in",
        `${who}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${who}.crt`,
        "-days",
        "2",
      );
    }
    execFileSync("sh", ["-c", "cat server.crt server.key > haproxy.pem"], { cwd: dir });

    for (const k of ["mxTls", "subTls", "feV1", "feV2", "feTls", "feSubTls", "fePass", "nginx"])
      p[k] = await freePort();
    const config = join(dir, "mxedge.toml");
    writeFileSync(
      config,
      `hostname = "mx.proxy.test"
[proxy]
trusted = ["127.0.0.1/32"]
timeoutMs = 1000

[[listeners]]
name = "smtp"
role = "mx"
port = 0
proxy = true

[[listeners]]
name = "submission"
role = "submission"
port = 0

[[listeners]]
name = "submissions"
role = "submissions"
port = 0
proxy = true

[[listeners]]
name = "imap"
role = "imap"
port = 0
proxy = true

[[listeners]]
name = "imaps"
role = "imaps"
port = 0

[[listeners]]
name = "mx-tls"
role = "mx"
port = ${p.mxTls}
tls = "proxy"
proxy = true

[[listeners]]
name = "sub-tls"
role = "submission"
port = ${p.subTls}
tls = "proxy"
proxy = { trusted = ["127.0.0.1"] }
`,
    );
    mx = await startMxedge({ args: ["--config", config], env: { MXEDGE_LOG: "debug" } });
    expect((await mx.cli(["domain", "add", "proxy.test"])).code).toBe(0);
    expect(
      (await mx.cli(["user", "add", "bob@proxy.test", "--password-stdin"], "proxy-password-1")).code,
    ).toBe(0);

    const tlsBind = `ssl crt ${dir}/haproxy.pem ca-file ${dir}/ca.crt verify optional`;
    writeFileSync(
      join(dir, "haproxy.cfg"),
      `global
  maxconn 200
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe_v1
  bind 127.0.0.1:${p.feV1}
  default_backend be_v1
backend be_v1
  server relay 127.0.0.1:${mx.ports.smtp} send-proxy
frontend fe_v2
  bind 127.0.0.1:${p.feV2}
  default_backend be_v2
backend be_v2
  server relay 127.0.0.1:${mx.ports.smtp} send-proxy-v2 proxy-v2-options crc32c check inter 200ms
frontend fe_tls
  bind 127.0.0.1:${p.feTls} ${tlsBind}
  default_backend be_tls
backend be_tls
  server relay 127.0.0.1:${p.mxTls} send-proxy-v2-ssl-cn
frontend fe_subtls
  bind 127.0.0.1:${p.feSubTls} ${tlsBind}
  default_backend be_subtls
backend be_subtls
  server relay 127.0.0.1:${p.subTls} send-proxy-v2-ssl-cn
frontend fe_pass
  bind 127.0.0.1:${p.fePass}
  default_backend be_pass
backend be_pass
  server relay 127.0.0.1:${mx.ports.submissions} send-proxy-v2
`,
    );
    haproxy = startDaemon("haproxy", ["-f", join(dir, "haproxy.cfg"), "-db"]);
    writeFileSync(
      join(dir, "nginx.conf"),
      `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 64; }
stream {
  server {
    listen 127.0.0.1:${p.nginx};
    proxy_pass 127.0.0.1:${mx.ports.imap};
    proxy_protocol on;
  }
}
`,
    );
    nginx = startDaemon("nginx", [
      "-c",
      join(dir, "nginx.conf"),
      "-p",
      dir,
      "-e",
      join(dir, "nginx-error.log"),
    ]);
    for (const port of [p.feV1, p.feV2, p.feTls, p.feSubTls, p.fePass, p.nginx] as number[])
      await waitForPort(port);
  });

  afterAll(async () => {
    await haproxy?.stop();
    await nginx?.stop();
    await mx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("HAProxy send-proxy (v1): the stored Received header and the log show the real client", async () => {
    const r = await client({ proto: "smtp", port: p.feV1, rcpt: "bob@proxy.test", subject: "v1" });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, code: 250 });
    const { id, raw } = await rawMessage(mx, r.reply);
    expect(raw).toMatch(/^Received: from client\.proxy\.test \(\[127\.0\.0\.5\]\)/);
    expect(storedConnection(mx, id)).toMatchObject({
      client: { address: CLIENT_IP },
      proxy: { address: "127.0.0.1" },
      proxyVersion: 1,
    });
    const line = logLines(mx).find((l) => l.event === "smtp.data.stored" && l.id === id);
    expect(line).toMatchObject({ client: CLIENT_IP, proxy: "127.0.0.1" });
  });

  it("HAProxy send-proxy-v2 with CRC32C and health checks: real client, checks never logged as errors", async () => {
    const r = await client({ proto: "smtp", port: p.feV2, rcpt: "bob@proxy.test", subject: "v2" });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, code: 250 });
    const { id, raw } = await rawMessage(mx, r.reply);
    expect(raw).toMatch(/^Received: from client\.proxy\.test \(\[127\.0\.0\.5\]\)/);
    expect(storedConnection(mx, id)).toMatchObject({ client: { address: CLIENT_IP }, proxyVersion: 2 });
    await new Promise((res) => setTimeout(res, 1000)); // several health checks at inter 200ms
    const lines = logLines(mx);
    // HAProxy's checks connect, send a LOCAL header and reset; depending on timing the relay sees the
    // LOCAL header or only the reset. Either way they are debug lines, never errors or refusals.
    const checks = lines.filter((l) => l.event === "proxy.local" || l.event === "proxy.closed-early");
    expect(checks.length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    expect(lines.filter((l) => l.event === "proxy.refused")).toEqual([]);
  });

  it("HAProxy terminating TLS with send-proxy-v2-ssl-cn: recorded as TLS, with the verified client CN", async () => {
    const r = await client({
      proto: "smtp",
      port: p.feTls,
      ssl: true,
      cert: join(dir, "client.crt"),
      key: join(dir, "client.key"),
      rcpt: "bob@proxy.test",
      subject: "tls at proxy",
    });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, code: 250 });
    expect(r.features).not.toContain("starttls");
    const { id, raw } = await rawMessage(mx, r.reply);
    expect(raw).toMatch(/\(\[127\.0\.0\.5\]\)\r\n\tby mx\.e2e\.test \(mxedge\) with ESMTPS id /);
    expect(raw).toMatch(/ at proxy\);/);
    expect(storedConnection(mx, id)).toMatchObject({
      client: { address: CLIENT_IP },
      tls: { terminatedBy: "proxy", clientCertCn: "client.proxy.test", clientCertVerified: true },
    });
  });

  it("AUTH is allowed on a submission listener whose TLS the proxy terminated", async () => {
    const r = await client({
      proto: "smtp",
      port: p.feSubTls,
      ssl: true,
      rcpt: "bob@proxy.test",
      subject: "auth at proxy",
      user: "bob@proxy.test",
      password: "proxy-password-1",
    });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, code: 250 });
    expect(r.features).toContain("auth");
    const { id, raw } = await rawMessage(mx, r.reply);
    expect(raw).toMatch(/with ESMTPSA id /);
    expect(storedConnection(mx, id)).toMatchObject({
      tls: { terminatedBy: "proxy", clientCertCn: null, clientCertVerified: false },
    });
  });

  it("TLS passthrough to the implicit-TLS listener: the relay does the handshake after the v2 header", async () => {
    const r = await client({
      proto: "smtp",
      port: p.fePass,
      ssl: true,
      rcpt: "bob@proxy.test",
      subject: "passthrough",
      user: "bob@proxy.test",
      password: "proxy-password-1",
    });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, code: 250 });
    const { id, raw } = await rawMessage(mx, r.reply);
    expect(raw).toMatch(/^Received: from client\.proxy\.test \(\[127\.0\.0\.5\]\)/);
    expect(storedConnection(mx, id)).toMatchObject({
      client: { address: CLIENT_IP },
      tls: { terminatedBy: "relay" },
    });
  });

  it("nginx stream with proxy_protocol (v1) in front of the IMAP listener", async () => {
    const r = await client({ proto: "imap", port: p.nginx });
    expect(r.greeting).toMatch(/^\* OK /);
    const line = logLines(mx).find((l) => l.event === "imap.connect" && l.client === CLIENT_IP);
    expect(line).toMatchObject({ proxy: "127.0.0.1" });
  });

  describe("hostile peers get a closed connection and no banner", () => {
    it("a direct connection from outside the trusted range", async () => {
      const r = await rawExchange(mx.ports.smtp, "EHLO x\r\n", { source: CLIENT_IP });
      expect(r.data).toBe("");
      expect(r.closedAfterMs).toBeGreaterThanOrEqual(0);
    });
    it("a PROXY header from outside the trusted range", async () => {
      const r = await rawExchange(mx.ports.smtp, "PROXY TCP4 1.2.3.4 5.6.7.8 1111 25\r\n", {
        source: CLIENT_IP,
      });
      expect(r.data).toBe("");
    });
    it("silence from a trusted peer until the header timeout", async () => {
      const r = await rawExchange(mx.ports.smtp, null, { waitMs: 4000 });
      expect(r.data).toBe("");
      expect(r.closedAfterMs).toBeGreaterThanOrEqual(900);
    });
    it("`PROXY` followed by a stall", async () => {
      const r = await rawExchange(mx.ports.smtp, "PROXY", { waitMs: 4000 });
      expect(r.data).toBe("");
      expect(r.closedAfterMs).toBeGreaterThanOrEqual(900);
    });
    it("an invalid header (lowercase proxy, double spaces, port 65536)", async () => {
      for (const bad of [
        "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
      ]) {
        const r = await rawExchange(mx.ports.smtp, bad);
        expect(r.data, bad).toBe("");
        expect(r.closedAfterMs, bad).toBeGreaterThanOrEqual(0);
      }
    });
    it("a PROXY header sent to a listener without PROXY support is not taken as SMTP", async () => {
      const r = await rawExchange(mx.ports.submission, "PROXY TCP4 1.2.3.4 5.6.7.8 1111 25\r\nEHLO x\r\n");
      // The banner may already be on its way (the server speaks first), but nothing is answered.
      expect(r.data).toMatch(/^(220 [^\r\n]*\r\n)?$/);
      expect(r.closedAfterMs).toBeGreaterThanOrEqual(0);
    });
    it("refusals are logged with the peer and the reason", () => {
      const refused = logLines(mx).filter((l) => l.event === "proxy.refused");
      expect(refused.some((l) => l.reason === "untrusted" && String(l.peer).endsWith(CLIENT_IP))).toBe(true);
      expect(refused.some((l) => l.reason === "timeout")).toBe(true);
      expect(refused.some((l) => l.reason === "invalid-header")).toBe(true);
      expect(refused.some((l) => l.reason === "unexpected-header" && l.listener === "submission")).toBe(true);
    });
  });
});
