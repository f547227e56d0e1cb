/**
 * One pipeline suite, two runtimes: test/workers/pipeline-parity.test.ts runs it against the Worker
 * bundle on workerd + D1, test/unit/pipeline-parity.test.ts against the same Hono app on node:sqlite.
 * Both use the python3-dkim corpus and zone from test/support/dkim-corpus.ts and the rules below, so a
 * verdict that differs between the runtimes fails one of the two runs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { encodeTransaction, type Transaction } from "../../src/contract.ts";
import type { RuleConfig } from "../../src/rules/schema.ts";
import { testTransaction } from "../support/transaction.ts";

export const PARITY_RULES: RuleConfig[] = [
  { name: "vip", match: { from: "vip@*" }, action: "accept" },
  { name: "tag unsigned", match: { dkim: "!pass" }, action: "tag X-Unsigned: yes" },
  {
    name: "no lottery",
    match: { header: { name: "Subject", regex: "lottery" } },
    action: "reject 554 5.7.1 No lotteries",
  },
  { name: "big goes to Archive", match: { size: { gt: 20_000 } }, action: "deliver Archive" },
];

export interface Detail {
  auth: {
    spf: { result: string };
    dkim: Array<{ result: string; selector: string | null; algorithm: string | null }>;
    dmarc: { result: string; policy: string | null } | null;
    arc: { result: string };
    tempError: boolean;
    rules: Array<{ rule: string; actions: string[] }>;
  };
  copies: Array<{ mailbox: string }>;
}

type Fetch = (req: Request) => Promise<Response>;

export function pipelineSuite(
  runtime: string,
  setup: () => { fetch: Fetch; corpus: Record<string, Uint8Array> },
): void {
  describe(`edge pipeline on ${runtime}`, () => {
    let fetch: Fetch;
    let corpus: Record<string, Uint8Array>;
    const relay = { authorization: "Bearer test-relay-secret" };
    const admin = { authorization: "Bearer test-admin-token" };
    const call = (path: string, init?: RequestInit) => fetch(new Request(`https://edge.test${path}`, init));
    let seq = 0;

    const tx = (mailFrom: string, ip: string): Transaction =>
      testTransaction({ mailFrom, rcptTo: ["dana@suite.test"], clientIp: ip });

    async function send(raw: Uint8Array, mailFrom = "alice@signed.test", ip = "192.0.2.7") {
      const res = await call("/relay/v1/messages", {
        method: "POST",
        headers: {
          ...relay,
          "mxedge-transaction": encodeTransaction(tx(mailFrom, ip)),
          "idempotency-key": `suite-${runtime.replace(/\W+/g, "-")}-${++seq}-0000`,
        },
        body: raw,
      });
      const body = (await res.json()) as {
        id?: string;
        reply: { code: number; enhanced: string; message: string };
      };
      const detail = body.id
        ? ((await (await call(`/api/messages/${body.id}`, { headers: admin })).json()) as Detail)
        : null;
      return { status: res.status, reply: body.reply, detail };
    }
    const plain = (from: string, subject: string, extra = "") =>
      new TextEncoder().encode(
        `From: ${from}\r\nTo: dana@suite.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W+/g, ".")}.${runtime}@suite.test>\r\n\r\nbody${extra}\r\n`,
      );

    beforeAll(async () => {
      ({ fetch, corpus } = setup());
      await call("/api/domains", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: "suite.test" }),
      });
      await call("/api/users", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ address: "dana@suite.test", password: "suite-password" }),
      });
    });

    it("DKIM: RSA and Ed25519 pass; tampered body and header do not; two signatures, one bad", async () => {
      expect((await send(corpus.rsa!)).detail?.auth.dkim).toEqual([
        expect.objectContaining({ result: "pass", algorithm: "rsa-sha256" }),
      ]);
      expect((await send(corpus.ed25519!)).detail?.auth.dkim).toEqual([
        expect.objectContaining({ result: "pass", algorithm: "ed25519-sha256" }),
      ]);
      expect((await send(corpus.bodyModified!)).detail?.auth.dkim[0]?.result).not.toBe("pass");
      expect((await send(corpus.headerModified!)).detail?.auth.dkim[0]?.result).toBe("fail");
      const two = (await send(corpus.oneBad!)).detail?.auth.dkim.map((d) => [d.selector, d.result]).sort();
      expect(two).toEqual([
        ["sel1", "pass"],
        ["sel3", "fail"],
      ]);
    });

    it("ARC: a sealed forward validates", async () => {
      // From an SPF-authorised address, so DMARC passes and the verdict under test is ARC alone.
      const arc = await send(corpus.arcSealed!, "alice@signed.test", "192.0.2.9");
      expect(arc.detail?.auth.arc.result, JSON.stringify(arc.reply)).toBe("pass");
    });

    it("SPF: pass, fail, softfail, neutral, permerror, temperror", async () => {
      const spf = async (domain: string, ip = "192.0.2.7") =>
        (await send(plain(`a@${domain}`, `spf ${domain} ${ip}`), `a@${domain}`, ip)).detail?.auth;
      expect((await spf("signed.test"))?.spf.result).toBe("pass");
      expect((await spf("spf-fail.test"))?.spf.result).toBe("fail");
      expect((await spf("spf-softfail.test"))?.spf.result).toBe("softfail");
      expect((await spf("spf-neutral.test"))?.spf.result).toBe("neutral");
      expect((await spf("many.test", "203.0.113.10"))?.spf.result).toBe("permerror");
      expect((await spf("loop.test"))?.spf.result).toBe("permerror");
      expect(await spf("tmp.test")).toMatchObject({ spf: { result: "temperror" }, tempError: true });
    });

    it("DMARC: reject refused with 550 5.7.1, quarantine to Junk, none delivered; strict and subdomain policy", async () => {
      const reject = await send(plain("a@signed.test", "dmarc reject"), "a@signed.test", "198.51.100.1");
      expect(reject.reply).toMatchObject({ code: 550, enhanced: "5.7.1" });
      expect(reject.detail).toBeNull();
      const q = await send(
        plain("a@quarantine.test", "dmarc quarantine"),
        "a@quarantine.test",
        "198.51.100.1",
      );
      expect(q.detail?.copies).toEqual([expect.objectContaining({ mailbox: "Junk" })]);
      const none = await send(plain("a@none.test", "dmarc none"), "a@none.test", "198.51.100.1");
      expect(none.detail).toMatchObject({
        auth: { dmarc: { result: "fail", policy: "none" } },
        copies: [{ mailbox: "INBOX" }],
      });
      expect((await send(corpus.strict!, "alice@news.strict.test", "198.51.100.1")).reply.code).toBe(550);
      expect(
        (await send(corpus.aligned!, "alice@news.aligned.test", "198.51.100.1")).detail?.auth.dmarc?.result,
      ).toBe("pass");
      expect(
        (await send(plain("a@sub.parent.test", "dmarc sp"), "a@sub.parent.test", "198.51.100.1")).reply.code,
      ).toBe(550);
    });

    it("rules: in order, with tag, reject, deliver and an accept that overrides DMARC", async () => {
      const tagged = await send(plain("a@none.test", "rules tag"), "a@none.test", "198.51.100.1");
      expect(tagged.detail?.auth.rules).toEqual([{ rule: "tag unsigned", actions: ["tag X-Unsigned"] }]);
      const lottery = await send(plain("a@none.test", "you won the lottery"), "a@none.test", "198.51.100.1");
      expect(lottery.reply).toEqual({ code: 554, enhanced: "5.7.1", message: "No lotteries" });
      const big = await send(
        plain("a@none.test", "rules big", "x".repeat(25_000)),
        "a@none.test",
        "198.51.100.1",
      );
      expect(big.detail?.copies).toEqual([expect.objectContaining({ mailbox: "INBOX" })]); // no Archive mailbox: INBOX
      expect(big.detail?.auth.rules.map((r) => r.rule)).toEqual(["tag unsigned", "big goes to Archive"]);
      const vip = await send(plain("vip@signed.test", "vip"), "vip@signed.test", "198.51.100.1"); // DMARC would reject
      expect(vip.reply.code).toBe(250);
      expect(vip.detail?.auth.rules).toEqual([{ rule: "vip", actions: ["accept"] }]);
    });
  });
}
