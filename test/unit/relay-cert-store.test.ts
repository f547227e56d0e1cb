import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CertStore, makeEntry } from "../../relay/certs/store.ts";
import { writeSelfSigned } from "../support/self-signed.ts";

const dir = mkdtempSync(join(tmpdir(), "mxedge-certstore-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pem(name: string, sans: string, days = 30) {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeSelfSigned({ certPath: cert, keyPath: key, cn: name, san: sans, days });
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

describe("CertStore", () => {
  const a = makeEntry("a", pem("a", "DNS:mx.example.com,DNS:mail.example.com"));
  const wild = makeEntry("w", pem("w", "DNS:*.other.test"));
  it("reads names and expiry from the certificate", () => {
    expect(a.names).toEqual(["mx.example.com", "mail.example.com"]);
    expect(a.notAfter.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it("refuses a key that does not belong to the certificate", () => {
    const other = pem("x", "DNS:x.test");
    expect(() => makeEntry("bad", { cert: other.cert, key: pem("y", "DNS:y.test").key })).toThrow();
  });

  it("picks by SNI (exact, one-label wildcard), else the first entry", () => {
    const store = new CertStore();
    store.set(a);
    store.set(wild);
    expect(store.contextFor("MAIL.example.com.")).toBe(a.context);
    expect(store.contextFor("imap.other.test")).toBe(wild.context);
    expect(store.contextFor("a.b.other.test")).toBe(a.context); // a wildcard covers one label only
    expect(store.contextFor(undefined)).toBe(a.context);
    store.set(wild, true);
    expect(store.defaultContext()).toBe(wild.context);
  });

  it("reports problems and expired certificates", () => {
    const store = new CertStore();
    store.set(a);
    store.problem("files:x", "reload failed: bad PEM");
    expect(store.problems()).toEqual(["files:x: reload failed: bad PEM"]);
    expect(store.hasValid(a.notAfter.getTime() + 1)).toBe(false);
    expect(store.problems(a.notAfter.getTime() + 1).join()).toMatch(/has expired/);
    store.problem("files:x", null);
    expect(store.problems()).toEqual([]);
  });
});
