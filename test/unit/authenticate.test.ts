/** The authenticate stage against a corpus signed by python3-dkim, with DNS from a static zone. */
import { authenticate } from "mailauth";
import { beforeAll, describe, expect, it } from "vitest";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";
import { stripForgedAuthResults } from "../../src/pipeline/auth-headers.ts";
import { type AuthResults, authenticateMessage, mailauthInput } from "../../src/pipeline/authenticate.ts";
import { buildCorpus, type Corpus, dkimCorpusAvailable, plainMessage } from "../support/dkim-corpus.ts";

const enabled = dkimCorpusAvailable();

describe.runIf(enabled)("authenticate stage (mailauth) on an independently signed corpus", () => {
  let corpus: Corpus;
  let check: (
    raw: Uint8Array,
    opts?: { ip?: string; from?: string; helo?: string },
  ) => Promise<{ results: AuthResults; headers: string }>;

  beforeAll(() => {
    corpus = buildCorpus();
    const resolver = zoneResolver(parseZone(corpus.zone));
    check = (raw, opts = {}) =>
      authenticateMessage({
        raw,
        clientIp: opts.ip ?? "192.0.2.7",
        helo: opts.helo ?? "mail.signed.test",
        mailFrom: opts.from ?? "alice@signed.test",
        authservId: "mx.example.test",
        resolver,
      });
  }, 60_000); // dkimpy signs the corpus in a subprocess: seconds on a busy 2-core machine

  describe("DKIM", () => {
    it("passes RSA and Ed25519 signatures", async () => {
      for (const [name, algorithm] of [
        ["rsa", "rsa-sha256"],
        ["ed25519", "ed25519-sha256"],
      ] as const) {
        const { results, headers } = await check(corpus.messages[name]!);
        expect(results.dkim, name).toEqual([
          expect.objectContaining({ result: "pass", domain: "signed.test", algorithm }),
        ]);
        expect(headers).toMatch(
          /^Received-SPF: pass[\s\S]*\r\nAuthentication-Results: mx\.example\.test;\r\n dkim=pass/,
        );
      }
    });
    it("does not pass a modified body or a modified signed header", async () => {
      const body = await check(corpus.messages.bodyModified!);
      expect(body.results.dkim[0]?.result).not.toBe("pass");
      expect(body.results.dkim[0]?.info ?? body.headers).toMatch(/body hash/);
      const header = await check(corpus.messages.headerModified!);
      expect(header.results.dkim[0]?.result).toBe("fail");
    });
    it("reports each of two signatures, one good and one bad", async () => {
      const { results } = await check(corpus.messages.oneBad!);
      expect(results.dkim.map((d) => [d.selector, d.result]).sort()).toEqual([
        ["sel1", "pass"],
        ["sel3", "fail"],
      ]);
      expect(results.dmarc?.result).toBe("pass");
    });
  });

  it("ARC: validates the seal of a forward whose DKIM signature the forwarder broke", async () => {
    const { results } = await check(corpus.messages.arcSealed!, { ip: "198.51.100.9", helo: "mx.fwd.test" });
    expect(results.arc).toMatchObject({ result: "pass", instance: 1 });
    expect(results.dkim[0]?.result).not.toBe("pass");
  });

  describe("SPF", () => {
    const spf = async (domain: string, ip = "192.0.2.7") =>
      (
        await check(plainMessage(`a@${domain}`, `spf ${domain}`), {
          ip,
          from: `a@${domain}`,
          helo: `mail.${domain}`,
        })
      ).results.spf;
    it("pass, fail, softfail, neutral", async () => {
      expect(await spf("signed.test")).toMatchObject({
        result: "pass",
        domain: "signed.test",
        clientIp: "192.0.2.7",
      });
      expect((await spf("spf-fail.test")).result).toBe("fail");
      expect((await spf("spf-softfail.test")).result).toBe("softfail");
      expect((await spf("spf-neutral.test")).result).toBe("neutral");
    });
    it("permerror for more than 10 lookups and for an include loop", async () => {
      expect((await spf("many.test", "203.0.113.10")).result).toBe("permerror");
      expect((await spf("loop.test")).result).toBe("permerror");
    });
    it("temperror when DNS fails, and the outcome says so", async () => {
      const { results } = await check(plainMessage("a@tmp.test", "spf temperror"), { from: "a@tmp.test" });
      expect(results.spf.result).toBe("temperror");
      expect(results.tempError).toBe(true);
    });
  });

  describe("DMARC", () => {
    const dmarc = async (from: string, raw?: Uint8Array) =>
      (await check(raw ?? plainMessage(from, `dmarc ${from}`), { from, ip: "198.51.100.200" })).results.dmarc;
    it("reject, quarantine and none policies on failure", async () => {
      expect(await dmarc("a@signed.test")).toMatchObject({ result: "fail", policy: "reject" });
      expect(await dmarc("a@quarantine.test")).toMatchObject({ result: "fail", policy: "quarantine" });
      expect(await dmarc("a@none.test")).toMatchObject({ result: "fail", policy: "none" });
    });
    it("relaxed alignment passes a parent-domain signature; strict alignment does not", async () => {
      expect(await dmarc("alice@news.aligned.test", corpus.messages.aligned)).toMatchObject({
        result: "pass",
      });
      expect(await dmarc("alice@news.strict.test", corpus.messages.strict)).toMatchObject({
        result: "fail",
        policy: "reject",
      });
    });
    it("a subdomain gets the parent's sp= policy", async () => {
      expect(await dmarc("a@sub.parent.test")).toMatchObject({
        result: "fail",
        policy: "reject",
        p: "none",
        sp: "reject",
      });
    });
  });
});

describe("forged Authentication-Results", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  it("removes only fields that claim our authserv-id, folded lines included, and leaves the body alone", () => {
    const raw = enc(
      "Authentication-Results: MX.example.test;\r\n dkim=pass header.d=evil.test\r\nAuthentication-Results: other.test; spf=pass\r\nSubject: x\r\n\r\nAuthentication-Results: mx.example.test; in the body\r\n",
    );
    const out = stripForgedAuthResults(raw, "mx.example.test");
    expect(out.removed).toBe(1);
    expect(dec(out.raw)).toBe(
      "Authentication-Results: other.test; spf=pass\r\nSubject: x\r\n\r\nAuthentication-Results: mx.example.test; in the body\r\n",
    );
  });
  it("returns the same bytes when there is nothing to remove", () => {
    const raw = enc("Subject: x\r\n\r\nbody\r\n");
    expect(stripForgedAuthResults(raw, "mx.example.test").raw).toBe(raw);
  });
});

describe("what mailauth reads: the header section alone when nothing in it signs the body", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const resolver = zoneResolver(
    parseZone(`sender.test. TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.sender.test. TXT "v=DMARC1; p=reject; sp=quarantine"
_dmarc.other.test. TXT "v=DMARC1; p=quarantine"
other.test. TXT "v=spf1 -all"
`),
  );
  const body = `${"abcdefghij".repeat(7)}\r\n`.repeat(40);
  const unsigned = [
    `From: a@sender.test\r\nTo: u@b.test\r\nSubject: aligned\r\nMessage-ID: <1@sender.test>\r\n\r\n${body}`,
    `From: a@other.test\r\nTo: u@b.test\r\nSubject: not aligned\r\n\r\n${body}`,
    `From: a@sender.test\r\nFrom: b@other.test\r\nSubject: two From fields\r\n\r\n${body}`,
    `Subject: no From\r\n\r\n${body}`,
    `From: a@sub.sender.test\r\nSubject: subdomain\r\n\r\n\r\n\r\n${body}`,
  ];

  it("checks an unsigned message on its header section, with the same results and headers as the whole", async () => {
    for (const text of unsigned) {
      const raw = enc(text);
      const input = mailauthInput(raw);
      expect(input.length).toBeLessThan(raw.length);
      expect(new TextDecoder().decode(input)).toBe(text.slice(0, text.indexOf("\r\n\r\n") + 4));
      for (const ip of ["192.0.2.7", "198.51.100.1"]) {
        const opts = {
          ip,
          helo: "mail.sender.test",
          sender: "a@sender.test",
          mta: "mx.example.test",
          resolver: resolver as never,
          disableBimi: true,
          trustReceived: false,
        };
        const whole = await authenticate(raw as unknown as Buffer, opts);
        const part = await authenticate(input as unknown as Buffer, opts);
        expect(JSON.stringify({ ...part })).toBe(JSON.stringify({ ...whole }));
      }
    }
  });

  it("gives mailauth the whole message when a DKIM or ARC field needs the body, or there is no body", () => {
    for (const field of [
      "DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=s1; bh=x; b=y",
      "dkim-signature:v=1",
      "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=fwd.test; s=s; b=z",
      "ARC-Message-Signature: i=1; a=rsa-sha256; d=fwd.test; s=s; bh=x; b=y",
    ]) {
      const raw = enc(`From: a@sender.test\r\n${field}\r\nSubject: x\r\n\r\n${body}`);
      expect(mailauthInput(raw)).toBe(raw);
    }
    const headersOnly = enc("From: a@sender.test\r\nSubject: x\r\n");
    expect(mailauthInput(headersOnly)).toBe(headersOnly);
    // A field that merely mentions a signature in its value, or in a folded line, does not count.
    const mention = enc(`Subject: about DKIM-Signature: fields\r\n X-Note: arc-seal: no\r\n\r\n${body}`);
    expect(mailauthInput(mention).length).toBeLessThan(mention.length);
  });
});
