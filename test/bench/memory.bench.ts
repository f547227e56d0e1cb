/**
 * `npm run bench:memory` — how much memory the edge pipeline needs for one message at the size limit
 * (25 MiB, DKIM-signed, mostly a base64 attachment), against Workers' 128 MB per isolate.
 *
 *   1. workerd (`wrangler dev --local`, the real Worker bundle, local D1): the workerd process's RSS is
 *      sampled every 10 ms while the message is POSTed to /relay/v1/messages; reported: the growth of
 *      its peak over the level after a small warm-up message. This is the whole workerd process, which
 *      in local mode also runs the D1 simulator (a Durable Object that parses the same JSON batches and
 *      writes SQLite) and keeps garbage of several isolates: a loose upper bound, reported but not judged.
 *      The Worker isolate alone could not be measured here (wrangler's inspector proxy refused Node's
 *      WebSocket). What the D1 binding does to bound blobs is in src/store/db.ts (maxBatchBytes).
 *   2. Node (the same edge app and pipeline on node:sqlite, in this process; the body streamed in 64 KiB
 *      chunks into POST /relay/v1/messages): growth of the process's peak RSS (getrusage maxrss, exact)
 *      over the level after a warm-up message, plus V8's heap and ArrayBuffers right after the message.
 *      This one must stay under 128 MB (the exit code says so).
 *
 *   npm run bench:memory -- [--mib 25] [--text] [--no-workerd] [--no-node]
 *   --text: a 25 MiB text/plain body instead of an attachment (postal-mime keeps text as a JS string).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dkimSign } from "mailauth";
import { createEdgeApp } from "../../edge/app.ts";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import { encodeTransaction, IDEMPOTENCY_HEADER, TRANSACTION_HEADER } from "../../src/contract.ts";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";
import { createStore } from "../../src/store/index.ts";
import { freePort, ROOT } from "../e2e/harness.ts";
import { testTransaction } from "../support/transaction.ts";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "25" },
    text: { type: "boolean", default: false },
    "no-workerd": { type: "boolean", default: false },
    "no-node": { type: "boolean", default: false },
  },
});
const LIMIT_MIB = 128;
const TARGET = Number(values.mib) * 1024 * 1024 - 64 * 1024; // leaves room for the headers the edge adds

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pub = publicKey.export({ type: "spki", format: "der" }).toString("base64");
const txt = (v: string) => (v.match(/.{1,200}/g) ?? []).map((p) => `"${p}"`).join(" ");
// Fully qualified names, no $ORIGIN: the zone also travels in a .env file, where "$..." is expanded.
const ZONE = `bench.test. TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.bench.test. TXT "v=DMARC1; p=reject"
s1._domainkey.bench.test. TXT ${txt(`v=DKIM1; k=rsa; p=${pub}`)}
`;
const key = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

async function signed(id: string, body: string, contentType: string, extra = ""): Promise<Uint8Array> {
  const text = `From: Bench <bench@bench.test>\r\nTo: u@b.test\r\nSubject: memory\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${id}@bench.test>\r\nMIME-Version: 1.0\r\nContent-Type: ${contentType}\r\n${extra}\r\n${body}`;
  const s = await dkimSign(text, {
    canonicalization: "relaxed/relaxed",
    signingDomain: "bench.test",
    selector: "s1",
    privateKey: key,
    signatureData: [{ signingDomain: "bench.test", selector: "s1", privateKey: key }],
  } as Parameters<typeof dkimSign>[1]);
  if (!s.signatures) throw new Error(`signing failed: ${JSON.stringify(s.errors)}`);
  return new TextEncoder().encode(s.signatures + text);
}

function bigBody(): { body: string; contentType: string } {
  if (values.text) {
    const line = `${"The quick brown fox jumps over the lazy dog. ".repeat(2)}\r\n`;
    return {
      body: line.repeat(Math.floor(TARGET / line.length)),
      contentType: "text/plain; charset=utf-8",
    };
  }
  const b64line = `${"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx"}MjM0\r\n`;
  const attachment = b64line.repeat(Math.floor((TARGET - 400) / b64line.length));
  return {
    body: `--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n--b\r\nContent-Type: application/pdf; name="big.pdf"\r\nContent-Disposition: attachment; filename="big.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}--b--\r\n`,
    contentType: 'multipart/mixed; boundary="b"',
  };
}

const mib = (bytes: number) => bytes / 1024 / 1024;
const big = bigBody();
const warm = await signed("warm", "hello\r\n", "text/plain");
const message = await signed("big", big.body, big.contentType);
console.log(
  `bench:memory — one ${mib(message.length).toFixed(1)} MiB DKIM-signed message (${values.text ? "text/plain body" : "base64 attachment"}); Workers' limit: ${LIMIT_MIB} MB per isolate`,
);

const tx = () =>
  testTransaction({
    mailFrom: "bench@bench.test",
    rcptTo: ["u@b.test"],
    clientIp: "192.0.2.10",
    helo: "mail.bench.test",
  });

let ok = true;

// ---- workerd --------------------------------------------------------------------------------------
function rssMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function descendants(root: number): Array<{ pid: number; comm: string }> {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  const out: Array<{ pid: number; comm: string }> = [];
  const walk = (pid: number) => {
    for (const c of kids.get(pid) ?? []) {
      try {
        out.push({ pid: c, comm: readFileSync(`/proc/${c}/comm`, "utf8").trim() });
      } catch {}
      walk(c);
    }
  };
  walk(root);
  return out;
}

async function benchWorkerd(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-mem-wrangler-"));
  const wrangler = join(ROOT, "node_modules/.bin/wrangler");
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };
  const envFile = join(dir, "bench.env");
  writeFileSync(
    envFile,
    `RELAY_SECRET="bench-relay-secret-0123456789"\nADMIN_TOKEN="bench-admin-token-0123456789"\nMXEDGE_HOSTNAME="mx.bench.test"\nDNS_ZONE='${ZONE}'\n`,
  );
  let child: ChildProcess | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", dir], {
        cwd: ROOT,
        env,
        stdio: "ignore",
      });
      p.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`migrations: exit ${code}`))));
    });
    const port = await freePort();
    child = spawn(
      wrangler,
      [
        "dev",
        "--local",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--persist-to",
        dir,
        "--env-file",
        envFile,
      ],
      { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    for (;;) {
      if (Date.now() - started > 90_000) throw new Error(`wrangler dev did not start:\n${out}`);
      const r = await fetch(`${base}/relay/v1/health`, {
        headers: { authorization: "Bearer bench-relay-secret-0123456789" },
      }).catch(() => null);
      if (r?.ok) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const admin = {
      authorization: "Bearer bench-admin-token-0123456789",
      "content-type": "application/json",
    };
    for (const [path, body] of [
      ["/api/domains", { name: "b.test" }],
      ["/api/users", { address: "u@b.test", password: "bench-password-1" }],
    ] as const) {
      const r = await fetch(`${base}${path}`, { method: "POST", headers: admin, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    }
    const workerd = descendants(child.pid ?? 0).filter((p) => p.comm === "workerd");
    if (workerd.length === 0) throw new Error("no workerd process found under wrangler");
    const ingest = async (raw: Uint8Array, id: string) => {
      const r = await fetch(`${base}/relay/v1/messages`, {
        method: "POST",
        headers: {
          authorization: "Bearer bench-relay-secret-0123456789",
          "content-type": "message/rfc822",
          [TRANSACTION_HEADER]: encodeTransaction(tx()),
          [IDEMPOTENCY_HEADER]: `bench-memory-${id}-key`,
        },
        body: raw as Uint8Array<ArrayBuffer>,
      });
      return { status: r.status, body: await r.text() };
    };
    const sum = () => workerd.reduce((a, p) => a + rssMiB(p.pid), 0);
    const w = await ingest(warm, "warm");
    if (w.status !== 200) throw new Error(`warm-up: ${w.status} ${w.body}`);
    await new Promise((r) => setTimeout(r, 500));
    const before = sum();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, sum());
    }, 10);
    const t0 = performance.now();
    const r = await ingest(message, "big");
    const ms = performance.now() - t0;
    clearInterval(sampler);
    peak = Math.max(peak, sum());
    const growth = peak - before;
    const stored = r.status === 200 && /"stored":true/.test(r.body);
    const dkim = await fetch(`${base}/api/messages?limit=1`, { headers: admin })
      .then((x) => x.json() as Promise<{ messages: Array<{ id: string }> }>)
      .then((j) => fetch(`${base}/api/messages/${j.messages[0]?.id}`, { headers: admin }))
      .then((x) => x.json() as Promise<{ auth?: { dkim?: Array<{ result: string }> } }>)
      .then((d) => d.auth?.dkim?.[0]?.result ?? "none")
      .catch(() => "unknown");
    console.log(
      `workerd (wrangler dev, local D1): ${r.status} ${stored ? "stored" : r.body.slice(0, 200)} dkim=${dkim} in ${ms.toFixed(0)} ms · RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB, growth ${growth.toFixed(1)} MiB (limit ${LIMIT_MIB} MB = ${(LIMIT_MIB / 1.048576).toFixed(0)} MiB)`,
    );
    ok = ok && stored;
  } finally {
    if (child) {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 1000));
      for (const p of descendants(child.pid ?? 0)) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {}
      }
      child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Node -----------------------------------------------------------------------------------------
async function benchNode(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-mem-node-"));
  const handle = openSqlite(join(dir, "bench.db"));
  try {
    await migrateSqlite(handle);
    const store = createStore(handle.driver);
    await store.directory.addDomain("b.test");
    await store.directory.addUser("u@b.test", "bench-password");
    const app = createEdgeApp({
      store,
      hostname: "mx.bench.test",
      relaySecret: "bench-relay-secret-0123456789",
      adminToken: "bench-admin-token-0123456789",
      auth: { resolver: zoneResolver(parseZone(ZONE)), onTempError: "accept", enforceDmarc: true },
    });
    const run = async (raw: Uint8Array, id: string) => {
      let off = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (off >= raw.length) return c.close();
          c.enqueue(raw.slice(off, off + 65536));
          off += 65536;
        },
      });
      const r = await app.fetch(
        new Request("http://edge.internal/relay/v1/messages", {
          method: "POST",
          headers: {
            authorization: "Bearer bench-relay-secret-0123456789",
            [TRANSACTION_HEADER]: encodeTransaction(tx()),
            [IDEMPOTENCY_HEADER]: `bench-memory-${id}-key`,
          },
          body,
          duplex: "half",
        } as RequestInit),
      );
      const j = (await r.json()) as { stored?: boolean; id?: string };
      return j.stored && j.id
        ? { kind: "stored" as const, id: j.id }
        : { kind: `refused ${r.status}` as const };
    };
    const w = await run(warm, "warm");
    if (w.kind !== "stored") throw new Error(`warm-up: ${w.kind}`);
    const before = process.resourceUsage().maxRSS / 1024;
    const rss0 = process.memoryUsage().rss / 1024 / 1024;
    const t0 = performance.now();
    const out = await run(message, "big");
    const ms = performance.now() - t0;
    const after = process.resourceUsage().maxRSS / 1024;
    const m = process.memoryUsage();
    const detail = out.kind === "stored" ? await store.messages.get(out.id) : null;
    const dkim = (detail?.auth as { dkim?: Array<{ result: string }> } | undefined)?.dkim?.[0]?.result;
    const growth = after - Math.max(before, rss0);
    console.log(
      `node (edge app, node:sqlite): ${out.kind} dkim=${dkim} in ${ms.toFixed(0)} ms · peak RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB, growth ${growth.toFixed(1)} MiB · after: heap ${mib(m.heapUsed).toFixed(0)} MiB, ArrayBuffers ${mib(m.arrayBuffers).toFixed(0)} MiB`,
    );
    ok = ok && out.kind === "stored" && growth < LIMIT_MIB / 1.048576;
  } finally {
    handle.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!values["no-node"]) await benchNode();
if (!values["no-workerd"]) await benchWorkerd();
process.exit(ok ? 0 : 1);
