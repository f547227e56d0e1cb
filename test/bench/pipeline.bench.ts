/**
 * npm run bench:pipeline — CPU time per message through the edge pipeline on Node: parse + authenticate
 * (one DKIM signature, SPF, DMARC, ARC; DNS from a zone) + rules + store (node:sqlite, synchronous=FULL),
 * for a 50 KiB message. Target: median ≤ 5 ms (the Workers Free plan allows 10 ms of CPU per request).
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dkimSign } from "mailauth";
import { migrateSqlite, openSqlite } from "../../edge/sqlite.ts";
import type { Transaction } from "../../src/contract.ts";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";
import { runPipeline } from "../../src/pipeline/pipeline.ts";
import { compilePolicy } from "../../src/rules/index.ts";
import { createStore } from "../../src/store/index.ts";
import { testTransaction } from "../support/transaction.ts";

const N = Number(process.env.N ?? 400);
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pub = publicKey.export({ type: "spki", format: "der" }).toString("base64");
const txt = (v: string) => (v.match(/.{1,200}/g) ?? []).map((p) => `"${p}"`).join(" ");
const resolver = zoneResolver(
  parseZone(`$ORIGIN bench.test.
@ TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc TXT "v=DMARC1; p=reject"
s1._domainkey TXT ${txt(`v=DKIM1; k=rsa; p=${pub}`)}
`),
);

const body = Array.from(
  { length: 700 },
  (_, i) => `Line ${i} of the benchmark message body, padded to about 72 chars..`,
).join("\r\n");
const unsigned = `From: Bench <bench@bench.test>\r\nTo: u@b.test\r\nSubject: bench\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@bench.test>\r\n\r\n${body}\r\n`;
const key = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
async function message(i: number): Promise<Uint8Array> {
  // A distinct Message-ID per message, so the content-derived idempotency key never dedupes.
  const text = unsigned.replace("<bench@bench.test>", `<bench-${i}@bench.test>`);
  const signed = await dkimSign(text, {
    canonicalization: "relaxed/relaxed",
    signingDomain: "bench.test",
    selector: "s1",
    privateKey: key,
    // mailauth signs only what is listed here (the top-level fields alone produce no signature).
    signatureData: [{ signingDomain: "bench.test", selector: "s1", privateKey: key }],
  } as Parameters<typeof dkimSign>[1]);
  if (!signed.signatures) throw new Error(`signing failed: ${JSON.stringify(signed.errors)}`);
  return new TextEncoder().encode(signed.signatures + text);
}
const messages = await Promise.all(Array.from({ length: N + 20 }, (_, i) => message(i)));

const dir = mkdtempSync(join(tmpdir(), "mxedge-bench-"));
const handle = openSqlite(join(dir, "bench.db"));
await migrateSqlite(handle);
const store = createStore(handle.driver);
await store.directory.addDomain("b.test");
await store.directory.addUser("u@b.test", "bench-password");
const policy = compilePolicy({
  dnsbl: [],
  rules: [
    { match: { "src-ip": "198.51.100.0/24" }, action: "reject" },
    { match: { header: { name: "Subject", regex: "viagra" } }, action: "reject" },
    { match: { dkim: "pass" }, action: "tag X-Bench: signed" },
  ],
});
const deps = {
  store,
  hostname: "mx.bench.test",
  now: Date.now,
  auth: { resolver, onTempError: "accept" as const, enforceDmarc: true },
  policy,
};
const tx = (i: number): Transaction =>
  testTransaction({
    mailFrom: "bench@bench.test",
    rcptTo: ["u@b.test"],
    clientIp: `192.0.2.${(i % 200) + 1}`,
    helo: "mail.bench.test",
  });

const cpu: number[] = [];
const wall: number[] = [];
let last = "";
for (let i = 0; i < N + 20; i++) {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const out = await runPipeline(
    { transaction: tx(i), idempotencyKey: `bench-key-${i}-xxxxxxxx`, raw: messages[i]! },
    deps,
  );
  const c = process.cpuUsage(c0);
  if (out.kind !== "stored") throw new Error(`not stored: ${JSON.stringify(out)}`);
  last = out.id;
  if (i >= 20) {
    cpu.push((c.user + c.system) / 1000);
    wall.push(performance.now() - w0);
  }
}
const detail = await store.messages.get(last);
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
console.log(
  `pipeline bench: ${N} messages of ${(messages[0]!.length / 1024).toFixed(1)} KiB, 1 DKIM signature (rsa-2048), DNS from a zone, node:sqlite synchronous=FULL`,
);
const signature = (detail?.auth as { dkim?: Array<{ result: string }> } | undefined)?.dkim?.[0];
console.log(`  dkim=${signature?.result}`);
if (signature?.result !== "pass") throw new Error("the benchmark message did not verify: dkim must be pass");
console.log(
  `  CPU per message:  median ${q(cpu, 0.5).toFixed(2)} ms   p99 ${q(cpu, 0.99).toFixed(2)} ms   (target: median <= 5 ms)`,
);
console.log(`  wall per message: median ${q(wall, 0.5).toFixed(2)} ms   p99 ${q(wall, 0.99).toFixed(2)} ms`);
handle.close();
rmSync(dir, { recursive: true, force: true });
