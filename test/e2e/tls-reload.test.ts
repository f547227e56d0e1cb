/**
 * Certificate files: replaced on disk, the next TLS handshake (implicit TLS and STARTTLS) gets the new
 * certificate while a session opened before keeps working; SNI picks among several pairs; a broken
 * replacement is refused, reported on /readyz, and the last good certificate keeps serving.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certFingerprint, writeSelfSigned } from "../support/self-signed.ts";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { RawSmtp } from "./smtp-raw.ts";
import { requireTools } from "./tools.ts";

const enabled = requireTools("openssl");
const dir = mkdtempSync(join(tmpdir(), "mxedge-tls-"));
let mx: RunningMxedge;

function makeCert(name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeSelfSigned({ certPath: cert, keyPath: key, cn, san: `DNS:${cn}`, days: 30 });
  return { cert, key };
}

/** Opens implicit TLS and returns the socket and the served certificate's SHA-256 fingerprint. */
async function tlsOpen(port: number, servername?: string): Promise<{ socket: TLSSocket; fp: string }> {
  const socket = connect({ port, host: "127.0.0.1", servername, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  return { socket, fp: socket.getPeerCertificate().fingerprint256 };
}

async function readLine(socket: TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let buf = "";
    const on = (d: Buffer) => {
      buf += d.toString();
      if (/^\d{3} [^\r\n]*\r\n$/m.test(buf) && buf.endsWith("\r\n")) {
        socket.off("data", on);
        resolve(buf);
      }
    };
    socket.on("data", on);
  });
}

/** Replaces a pair the way certbot's deploy hooks or `install` do: new files renamed over the old. */
function replace(target: { cert: string; key: string }, from: { cert: string; key: string }): void {
  execFileSync("cp", [from.key, `${target.key}.new`]);
  execFileSync("cp", [from.cert, `${target.cert}.new`]);
  renameSync(`${target.key}.new`, target.key);
  renameSync(`${target.cert}.new`, target.cert);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const until = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.runIf(enabled)("certificate files: SNI and hot reload", () => {
  const live = { cert: join(dir, "live.crt"), key: join(dir, "live.key") };
  let a: { cert: string; key: string };
  let b: { cert: string; key: string };
  let other: { cert: string; key: string };

  beforeAll(async () => {
    a = makeCert("a", "mx.e2e.test");
    b = makeCert("b", "mx.e2e.test");
    other = makeCert("other", "mail.other.test");
    replace(live, a);
    const toml = [
      "[tls]",
      `cert = "${live.cert}"`,
      `key = "${live.key}"`,
      "watchMs = 200",
      "[[tls.certificates]]",
      `cert = "${other.cert}"`,
      `key = "${other.key}"`,
    ].join("\n");
    writeFileSync(join(dir, "mxedge.toml"), toml);
    mx = await startMxedge({ args: ["--config", join(dir, "mxedge.toml")] });
  });
  afterAll(async () => {
    await mx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves by SNI, swaps on file change without touching open sessions, refuses a broken pair", async () => {
    const fpA = certFingerprint(a.cert);
    const fpB = certFingerprint(b.cert);
    const first = await tlsOpen(mx.ports.submissions, "mx.e2e.test");
    expect(first.fp).toBe(fpA);
    expect((await readLine(first.socket)).startsWith("220")).toBe(true);
    expect((await tlsOpen(mx.ports.submissions, "mail.other.test")).fp).toBe(certFingerprint(other.cert));
    expect((await tlsOpen(mx.ports.submissions)).fp).toBe(fpA); // no SNI: the default pair

    replace(live, b);
    await waitFor("the reload", async () => {
      const probe = await tlsOpen(mx.ports.submissions, "mx.e2e.test");
      probe.socket.destroy();
      return probe.fp === fpB;
    });
    expect(mx.output()).toMatch(/"event":"tls\.reloaded"/);
    const second = await tlsOpen(mx.ports.submissions, "mx.e2e.test");
    expect(second.fp).toBe(fpB);
    // STARTTLS on the submission port too.
    const plain = await RawSmtp.open(mx.ports.submission);
    await plain.reply();
    await plain.command("EHLO client.e2e.test");
    expect((await plain.command("STARTTLS"))?.code).toBe(220);
    await plain.startTls();
    expect((plain.socket as TLSSocket).getPeerCertificate().fingerprint256).toBe(fpB);
    plain.close();
    // The session opened before the swap goes on.
    first.socket.write("EHLO client.e2e.test\r\n");
    expect((await readLine(first.socket)).startsWith("250")).toBe(true);
    first.socket.write("NOOP\r\n");
    expect((await readLine(first.socket)).startsWith("250")).toBe(true);

    // A key that does not belong to the certificate: refused, reported, B keeps serving.
    const mark = mx.output().length;
    execFileSync("cp", [a.key, live.key]);
    await waitFor("the refusal", () => /"event":"tls\.reload-failed"/.test(mx.output().slice(mark)));
    expect((await tlsOpen(mx.ports.submissions, "mx.e2e.test")).fp).toBe(fpB);
    const ready = (await (await fetch(`http://127.0.0.1:${mx.ports.http}/readyz`)).json()) as {
      problems: string[];
    };
    expect(ready.problems.join("\n")).toMatch(/live\.crt: reload failed/);
    for (const s of [first.socket, second.socket]) s.destroy();
  });
});
