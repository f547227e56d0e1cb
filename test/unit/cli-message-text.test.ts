/** `mxedge messages show` in text: the verdicts `--json` has are there too. */
import { describe, expect, it } from "vitest";
import { messageText } from "../../relay/cli/message-text.ts";
import type { AuthResults } from "../../src/pipeline/authenticate.ts";
import type { DnsblResult } from "../../src/rules/dnsbl.ts";
import type { RuleTrace } from "../../src/rules/engine.ts";

const auth: AuthResults & { dnsbl: DnsblResult; rules: RuleTrace[]; webhooks: string[] } = {
  authservId: "mx.example.net",
  spf: { result: "fail", domain: "sender.test", clientIp: "192.0.2.7", helo: "mail.sender.test", info: null },
  dkim: [
    {
      result: "pass",
      domain: "sender.test",
      selector: "s1",
      algorithm: "rsa-sha256",
      aligned: "sender.test",
      info: null,
    },
    {
      result: "fail",
      domain: "other.test",
      selector: "x",
      algorithm: "ed25519-sha256",
      aligned: null,
      info: "bad sig",
    },
  ],
  dmarc: {
    result: "pass",
    policy: "reject",
    domain: "sender.test",
    p: "reject",
    sp: null,
    alignment: { spf: null, dkim: "sender.test", spfStrict: false, dkimStrict: false },
  },
  arc: { result: "none", instance: null, info: null },
  tempError: false,
  dnsbl: { hits: [{ zone: "bl.test", query: "7.2.0.192.bl.test", answer: "127.0.0.2" }], errors: [] },
  rules: [{ rule: "quarantine-listed", actions: ["quarantine"] }],
  webhooks: [],
};

const message = {
  id: "01J0000000000000000000000",
  receivedAt: Date.UTC(2026, 11, 4, 12),
  envelope: { mailFrom: "a@sender.test", rcptTo: ["u@example.com"] },
  summary: { from: "a@sender.test", to: ["u@example.com"], subject: "hi", date: "Fri, 04 Dec 2026" },
  auth,
};

describe("messages show (text)", () => {
  it("prints every verdict with the details that explain it", () => {
    const text = messageText(message);
    expect(text).toMatch(
      /^spf {9}fail \(domain sender\.test; client 192\.0\.2\.7; helo mail\.sender\.test\)$/m,
    );
    expect(text).toMatch(/^dkim {8}pass \(d=sender\.test; s=s1; a=rsa-sha256; aligned with sender\.test\)$/m);
    expect(text).toMatch(/^ {12}fail \(d=other\.test; s=x; a=ed25519-sha256; bad sig\)$/m);
    expect(text).toMatch(
      /^dmarc {7}pass \(domain sender\.test; policy reject; dkim aligned sender\.test\)$/m,
    );
    expect(text).toMatch(/^arc {9}none$/m);
    expect(text).toMatch(/^dnsbl {7}listed by bl\.test \(127\.0\.0\.2\)$/m);
    expect(text).toMatch(/^rules {7}quarantine-listed: quarantine$/m);
    expect(text).toMatch(/^subject {5}hi$/m);
  });

  it("says when nothing was checked, and when DNS trouble cut a check short", () => {
    expect(messageText({ ...message, auth: null })).toMatch(/^auth {8}not checked$/m);
    const partial = messageText({ ...message, auth: { ...auth, dkim: [], dmarc: null, tempError: true } });
    expect(partial).toMatch(/^dkim {8}none \(no signature\)$/m);
    expect(partial).toMatch(/^note .*temporary DNS failure$/m);
  });
});
