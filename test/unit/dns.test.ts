import { describe, expect, it } from "vitest";
import { cachedResolver } from "../../src/dns/cache.ts";
import { dohResolver } from "../../src/dns/doh.ts";
import { DnsError, type DnsResolver } from "../../src/dns/resolver.ts";
import { decodeAnswer, encodeQuery } from "../../src/dns/wire.ts";
import { parseZone, ZoneSyntaxError, zoneResolver } from "../../src/dns/zone.ts";

const zoneText = `
$ORIGIN example.test.
$TTL 300
@            IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
long._domainkey 300 IN TXT ( "v=DKIM1; k=rsa; "   ; a comment
                             "p=ABC\\"DEF" )
@            MX 10 mx
mx           A 192.0.2.1
             AAAA 2001:db8::1
www          CNAME mx
broken       SERVFAIL
slow         TIMEOUT
abs.other.test. TXT "absolute"
`;

describe("static zone resolver", () => {
  const resolve = zoneResolver(parseZone(zoneText));
  it("answers TXT (multi-string, multi-line), MX, A, AAAA and follows CNAME", async () => {
    expect(await resolve("example.test", "TXT")).toEqual([["v=spf1 ip4:192.0.2.0/24 -all"]]);
    expect(await resolve("LONG._domainkey.example.test.", "TXT")).toEqual([
      ["v=DKIM1; k=rsa; ", 'p=ABC"DEF'],
    ]);
    expect(await resolve("example.test", "MX")).toEqual([{ priority: 10, exchange: "mx.example.test" }]);
    expect(await resolve("mx.example.test", "A")).toEqual(["192.0.2.1"]);
    expect(await resolve("mx.example.test", "AAAA")).toEqual(["2001:db8::1"]);
    expect(await resolve("www.example.test", "A")).toEqual(["192.0.2.1"]);
    expect(await resolve("abs.other.test", "TXT")).toEqual([["absolute"]]);
  });
  it("distinguishes NXDOMAIN, NODATA and temporary failures with node's codes", async () => {
    await expect(resolve("nope.example.test", "TXT")).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(resolve("mx.example.test", "TXT")).rejects.toMatchObject({ code: "ENODATA" });
    await expect(resolve("broken.example.test", "TXT")).rejects.toMatchObject({ code: "ESERVFAIL" });
    await expect(resolve("slow.example.test", "A")).rejects.toMatchObject({ code: "ETIMEOUT" });
  });
  it("names the line of a syntax error", () => {
    expect(() => parseZone("a.test. TXT\nb.test. BOGUS x")).toThrow(ZoneSyntaxError);
    expect(() => parseZone('a.test. TXT "unterminated')).toThrow(/line 1/);
    expect(() => parseZone("a.test. MX ten mx")).toThrow(/MX needs/);
  });
});

describe("DNS wire format", () => {
  it("encodes a query and decodes an answer with name compression", () => {
    const q = encodeQuery("example.test", 16, 0x1234);
    expect(Array.from(q.subarray(0, 6))).toEqual([0x12, 0x34, 0x01, 0x00, 0x00, 0x01]);
    // A response: header, the question, a TXT answer and an MX answer both pointing at the question name.
    const txt = [5, ...new TextEncoder().encode("hello"), 2, ...new TextEncoder().encode("hi")];
    const mx = [0, 10, 2, ...new TextEncoder().encode("mx"), 0xc0, 12];
    const resp = new Uint8Array([
      ...[0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0],
      ...q.subarray(12),
      ...[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, txt.length, ...txt],
      ...[0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, mx.length, ...mx],
    ]);
    expect(decodeAnswer(resp)).toEqual({
      rcode: 0,
      answers: [
        { type: 16, data: ["hello", "hi"] },
        { type: 15, data: { priority: 10, exchange: "mx.example.test" } },
      ],
    });
  });
});

describe("DNS-over-HTTPS", () => {
  const json =
    (body: unknown, status = 200) =>
    async () =>
      new Response(JSON.stringify(body), { status });
  it("reads the JSON API and maps Status to node's codes", async () => {
    const ok = dohResolver({
      endpoint: "https://doh.test/dns-query",
      format: "json",
      timeoutMs: 1000,
      fetch: json({ Status: 0, Answer: [{ type: 16, data: '"v=spf1 " "-all"' }] }) as typeof fetch,
    });
    expect(await ok("example.test", "TXT")).toEqual([["v=spf1 ", "-all"]]);
    const nx = dohResolver({
      endpoint: "https://doh.test/dns-query",
      format: "json",
      timeoutMs: 1000,
      fetch: json({ Status: 3 }) as typeof fetch,
    });
    await expect(nx("x.test", "TXT")).rejects.toMatchObject({ code: "ENOTFOUND" });
    const fail = dohResolver({
      endpoint: "https://doh.test/dns-query",
      format: "json",
      timeoutMs: 1000,
      fetch: json({}, 502) as typeof fetch,
    });
    await expect(fail("x.test", "TXT")).rejects.toMatchObject({ code: "ESERVFAIL" });
  });
});

describe("resolver cache", () => {
  it("caches answers and definite negatives, never temporary failures", async () => {
    let calls = 0;
    let now = 0;
    const inner: DnsResolver = async (name) => {
      calls++;
      if (name === "tmp.test") throw new DnsError("ETIMEOUT", name, "TXT");
      if (name === "nx.test") throw new DnsError("ENOTFOUND", name, "TXT");
      return [["x"]];
    };
    const r = cachedResolver(inner, { ttlMs: 1000, maxEntries: 10, now: () => now });
    await r("a.test", "TXT");
    await r("A.test", "TXT");
    await expect(r("nx.test", "TXT")).rejects.toThrow();
    await expect(r("nx.test", "TXT")).rejects.toThrow();
    await expect(r("tmp.test", "TXT")).rejects.toThrow();
    await expect(r("tmp.test", "TXT")).rejects.toThrow();
    expect(calls).toBe(4);
    now = 2000;
    await r("a.test", "TXT");
    expect(calls).toBe(5);
  });
});
