import { describe, expect, it } from "vitest";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";
import type { AuthResults } from "../../src/pipeline/authenticate.ts";
import { ActionSyntaxError, parseAction } from "../../src/rules/actions.ts";
import { checkDnsbls, parseDnsbl, reverseIp } from "../../src/rules/dnsbl.ts";
import { compileRules, evaluateRules, type RuleInput } from "../../src/rules/engine.ts";
import { compilePolicy } from "../../src/rules/index.ts";
import type { RuleConfig } from "../../src/rules/schema.ts";

const auth = (
  over: Partial<{ spf: string; dkim: string[]; dmarc: string; arc: string }> = {},
): AuthResults => ({
  authservId: "mx.test",
  spf: { result: over.spf ?? "pass", domain: "s.test", clientIp: "192.0.2.1", helo: "h", info: null },
  dkim: (over.dkim ?? ["pass"]).map((result) => ({
    result,
    domain: "s.test",
    selector: "a",
    algorithm: "rsa-sha256",
    aligned: null,
    info: null,
  })),
  dmarc: {
    result: over.dmarc ?? "pass",
    policy: null,
    domain: "s.test",
    p: null,
    sp: null,
    alignment: { spf: null, dkim: null, spfStrict: false, dkimStrict: false },
  },
  arc: { result: over.arc ?? "none", instance: null, info: null },
  tempError: false,
});

const input = (over: Partial<RuleInput> = {}): RuleInput => ({
  rcptTo: ["bob@ours.test"],
  mailFrom: "alice@sender.test",
  clientIp: "192.0.2.1",
  helo: "mail.sender.test",
  authUser: null,
  dnsbl: null,
  headerFrom: ["alice@sender.test"],
  headers: [{ name: "Subject", value: "Cheap watches" }],
  size: 5000,
  auth: auth(),
  ...over,
});

const run = (rules: RuleConfig[], i: RuleInput = input(), phase: "rcpt" | "data" = "data") =>
  evaluateRules(compileRules(rules), i, phase);
const matches = (match: RuleConfig["match"], i: RuleInput = input()) =>
  run([{ match, action: "reject" }], i).verdict === "reject";

describe("rule conditions", () => {
  it("envelope: rcpt, rcpt-domain, from, src-ip (CIDR), helo, auth-user", () => {
    expect(matches({ rcpt: "bob@*" })).toBe(true);
    expect(matches({ rcpt: "carol@*" })).toBe(false);
    expect(matches({ "rcpt-domain": ["x.test", "OURS.test"] })).toBe(true);
    expect(matches({ from: "*@sender.test" })).toBe(true);
    expect(matches({ "src-ip": "192.0.2.0/24" })).toBe(true);
    expect(matches({ "src-ip": ["198.51.100.0/24", "2001:db8::/32"] })).toBe(false);
    expect(matches({ helo: "mail.*" })).toBe(true);
    expect(matches({ "auth-user": "*" })).toBe(false);
    expect(matches({ "auth-user": "bob@*" }, input({ authUser: "bob@ours.test" }))).toBe(true);
  });
  it("content: header-from, header regex, size", () => {
    expect(matches({ "header-from": "*@sender.test" })).toBe(true);
    expect(matches({ header: { name: "subject", regex: "cheap\\s+watch" } })).toBe(true);
    expect(matches({ header: { name: "X-Other", regex: "." } })).toBe(false);
    expect(matches({ size: { gt: 4000 } })).toBe(true);
    expect(matches({ size: { gt: 1000, lt: 2000 } })).toBe(false);
  });
  it("authentication results, with negation by '!'", () => {
    expect(matches({ spf: "pass" })).toBe(true);
    expect(matches({ spf: ["fail", "softfail"] })).toBe(false);
    expect(matches({ dkim: "!pass" })).toBe(false);
    expect(matches({ dkim: "!pass" }, input({ auth: auth({ dkim: ["fail", "neutral"] }) }))).toBe(true);
    expect(matches({ dkim: "none" }, input({ auth: auth({ dkim: [] }) }))).toBe(true);
    expect(matches({ dmarc: "fail" }, input({ auth: auth({ dmarc: "fail" }) }))).toBe(true);
    expect(matches({ arc: "pass" })).toBe(false);
  });
  it("dnsbl: any list, or named lists", () => {
    const listed = input({
      dnsbl: { hits: [{ zone: "bl.test", query: "1.2.0.192.bl.test", answer: "127.0.0.2" }], errors: [] },
    });
    expect(matches({ dnsbl: true }, listed)).toBe(true);
    expect(matches({ dnsbl: true })).toBe(false);
    expect(matches({ dnsbl: false })).toBe(true);
    expect(matches({ dnsbl: "bl.test" }, listed)).toBe(true);
    expect(matches({ dnsbl: ["other.test"] }, listed)).toBe(false);
  });
  it("not: negates a nested match; all conditions of a match must hold", () => {
    expect(matches({ from: "*@sender.test", not: { "src-ip": "192.0.2.0/24" } })).toBe(false);
    expect(matches({ from: "*@sender.test", not: { "src-ip": "198.51.100.0/24" } })).toBe(true);
    expect(matches({ from: "*@sender.test", rcpt: "nobody@*" })).toBe(false);
  });
});

describe("rule actions and order", () => {
  it("parses every action, with reply codes", () => {
    expect(parseAction("reject 554 5.7.1 go away")).toEqual({
      kind: "reject",
      reply: { code: 554, enhanced: "5.7.1", message: "go away" },
    });
    expect(parseAction("reject")).toMatchObject({ kind: "reject", reply: { code: 550, enhanced: "5.7.1" } });
    expect(parseAction("tempfail greylisted")).toMatchObject({
      kind: "tempfail",
      reply: { code: 451, message: "greylisted" },
    });
    expect(parseAction("tag X-Spam: yes")).toEqual({ kind: "tag", header: "X-Spam", value: "yes" });
    expect(parseAction("deliver Lists/Announce")).toEqual({ kind: "deliver", mailbox: "Lists/Announce" });
    expect(parseAction("webhook tickets")).toEqual({ kind: "webhook", name: "tickets" });
    for (const k of ["accept", "quarantine", "discard", "stop"]) expect(parseAction(k)).toEqual({ kind: k });
    expect(() => parseAction("reject 451 no")).toThrow(ActionSyntaxError);
    expect(() => parseAction("tag nocolon")).toThrow(ActionSyntaxError);
    expect(() => parseAction("bounce")).toThrow(/unknown action/);
  });
  it("accumulates tags, quarantine, deliver and webhooks; a deciding action ends evaluation", () => {
    const d = run([
      { name: "tag", match: {}, action: ["tag X-A: 1", "webhook w1"] },
      { name: "q", match: { from: "*@sender.test" }, action: "quarantine" },
      { name: "box", match: {}, action: "deliver Lists" },
      { name: "ok", match: {}, action: "accept" },
      { name: "never", match: {}, action: "reject" },
    ]);
    expect(d).toMatchObject({
      verdict: "accept",
      quarantine: true,
      deliverTo: "Lists",
      tags: [{ header: "X-A", value: "1" }],
      webhooks: ["w1"],
    });
    expect(d.trace.map((t) => t.rule)).toEqual(["tag", "q", "box", "ok"]);
  });
  it("stop ends evaluation without deciding; order matters", () => {
    expect(
      run([
        { match: {}, action: "stop" },
        { match: {}, action: "reject" },
      ]).verdict,
    ).toBeNull();
    expect(
      run([
        { match: {}, action: "discard" },
        { match: {}, action: "reject" },
      ]).verdict,
    ).toBe("discard");
    expect(run([{ match: {}, action: "tempfail 450 4.7.1 later" }]).reply).toEqual({
      code: 450,
      enhanced: "4.7.1",
      message: "later",
    });
  });
  it("at RCPT time only envelope-only rules run, and only their refusals or accept count", () => {
    const rules: RuleConfig[] = [
      { match: { dkim: "!pass" }, action: "reject" },
      { match: { from: "*@sender.test" }, action: ["tag X-B: 1", "reject 554 5.7.1 not you"] },
    ];
    const d = run(rules, input(), "rcpt");
    expect(d.verdict).toBe("reject");
    expect(d.reply?.message).toBe("not you");
    expect(d.tags).toEqual([]);
  });
  it("reports a bad rule with its position at compile time", () => {
    expect(() =>
      compilePolicy({
        rules: [
          { match: {}, action: "accept" },
          { match: { "src-ip": "10.0.0.1/8" }, action: "accept" },
        ],
        dnsbl: [],
      }),
    ).toThrow(/rules\.1 \(rule 2\): .*host bits/);
    expect(() => compilePolicy({ rules: [], dnsbl: [{ zone: "bl.test=127.0.0", check: "ip" }] })).toThrow(
      /dnsbl\.0: .*four octets/,
    );
  });
});

describe("DNSBL", () => {
  const zone = parseZone(`
$ORIGIN test.
2.0.0.127.bl          A 127.0.0.2
7.2.0.192.bl          A 127.0.0.4
7.2.0.192.other       A 127.0.0.20
9.2.0.192.bl          A 10.0.0.1
spammer.test.rhsbl    A 127.0.1.2
down.bl               SERVFAIL
`);
  const resolver = zoneResolver(zone);
  it("reverses IPv4 and IPv6 addresses", () => {
    expect(reverseIp("192.0.2.7")).toBe("7.2.0.192");
    expect(reverseIp("2001:db8::1")).toBe("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
  });
  it("listed, not listed, a return code outside the filter, a non-127 answer, RHSBL, and a failing list", async () => {
    const lists = [
      parseDnsbl({ zone: "bl.test=127.0.0.[2..3;4]", check: "ip" }),
      parseDnsbl({ zone: "other.test=127.0.0.[2..11]", check: "ip" }),
    ];
    const listed = await checkDnsbls(lists, { ip: "192.0.2.7", helo: "h", senderDomain: null }, resolver);
    expect(listed.hits).toEqual([{ zone: "bl.test", query: "7.2.0.192.bl.test", answer: "127.0.0.4" }]); // other.test answered .20: outside its filter
    expect(
      (await checkDnsbls(lists, { ip: "192.0.2.8", helo: "h", senderDomain: null }, resolver)).hits,
    ).toEqual([]);
    expect(
      (await checkDnsbls(lists, { ip: "192.0.2.9", helo: "h", senderDomain: null }, resolver)).hits,
    ).toEqual([]);
    const rhsbl = [parseDnsbl({ zone: "rhsbl.test", check: "sender-domain" })];
    expect(
      (await checkDnsbls(rhsbl, { ip: "192.0.2.7", helo: "h", senderDomain: "spammer.test" }, resolver)).hits,
    ).toHaveLength(1);
    const down = await checkDnsbls(
      [parseDnsbl({ zone: "bl.test", check: "helo" })],
      { ip: "192.0.2.7", helo: "down", senderDomain: null },
      resolver,
    );
    expect(down).toMatchObject({ hits: [], errors: [expect.stringContaining("bl.test")] });
  });
});
