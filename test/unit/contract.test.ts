import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.ts";
import { decodeTransaction, encodeTransaction, type Transaction } from "../../src/contract.ts";
import { receivedHeader } from "../../src/pipeline/received.ts";

const tx: Transaction = {
  version: 1,
  mailFrom: "ünï@sender.test",
  rcptTo: ["bob@example.test"],
  declaredSize: 42,
  body: "8BITMIME",
  smtputf8: true,
  dsn: { ret: "HDRS", envid: "e1", notify: { "bob@example.test": ["FAILURE"] }, orcpt: {} },
  session: {
    helo: "mail.sender.test",
    user: null,
    protocol: "ESMTPS",
    rdns: "mail.sender.test",
    connection: {
      client: { address: "2001:db8::7", port: 1234 },
      server: { address: "127.0.0.1", port: 25 },
      proxy: { address: "127.0.0.1", port: 5555 },
      proxyVersion: 2,
      tls: {
        terminatedBy: "proxy",
        version: "TLSv1.3",
        cipher: "TLS_AES_128_GCM_SHA256",
        sni: "mx.example.test",
        clientCertCn: null,
        clientCertVerified: false,
      },
      authority: "mx.example.test",
      uniqueId: null,
      alpn: null,
    },
  },
};

describe("relay contract", () => {
  it("round-trips a transaction through its versioned header", () => {
    const header = encodeTransaction(tx);
    expect(header).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(decodeTransaction(header)).toEqual(tx);
  });
  it("rejects other versions, garbage and schema violations", () => {
    expect(decodeTransaction(null)).toBeNull();
    expect(decodeTransaction("v2.e30")).toBeNull();
    expect(decodeTransaction("v1.!!!")).toBeNull();
    expect(decodeTransaction(encodeTransaction({ ...tx, rcptTo: [] }))).toBeNull();
  });
});

describe("Received header", () => {
  it("names the real client, protocol, id and TLS, and cannot be split by hostile HELO text", () => {
    const h = receivedHeader({
      session: { ...tx.session, helo: "evil\r\nX-Injected: 1" },
      hostname: "mx.example.test",
      id: "ID1",
      rcptTo: ["bob@example.test"],
      date: new Date(0),
    });
    expect(h).toBe(
      "Received: from evil X-Injected: 1 (mail.sender.test [IPv6:2001:db8::7])\r\n\tby mx.example.test (mxedge) with ESMTPS id ID1\r\n\tfor <bob@example.test>\r\n\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 at proxy);\r\n\tThu, 1 Jan 1970 00:00:00 +0000\r\n",
    );
  });
});

describe("config schema", () => {
  it("has the documented defaults", () => {
    const r = parseConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.listeners.map((l) => [l.name, l.port])).toEqual([
      ["smtp", 2525],
      ["submission", 2587],
      ["submissions", 2465],
      ["imap", 2143],
      ["imaps", 2993],
    ]);
    expect(r.config.http.port).toBe(8787);
    expect(r.config.limits.maxMessageBytes).toBe(25 * 1024 * 1024);
  });
  it("names the field and the problem", () => {
    expect(parseConfig({ http: { port: 70000 } })).toEqual({
      ok: false,
      error: "http.port: Too big: expected number to be <=65535",
    });
    expect(parseConfig({ bogus: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/bogus/) });
    expect(parseConfig({ tls: { cert: "a.pem" } })).toMatchObject({
      ok: false,
      error: "tls: cert and key must be given together",
    });
  });
});
