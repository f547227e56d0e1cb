/** RFC 8601 `smtp.auth=`: an authenticated submission's Authentication-Results says who sent it. */
import { describe, expect, it } from "vitest";
import { parseZone, zoneResolver } from "../../src/dns/zone.ts";
import { withSmtpAuth } from "../../src/pipeline/auth-headers.ts";
import { runAuthStage } from "../../src/pipeline/auth-stage.ts";
import { testTransaction } from "../support/transaction.ts";

const raw = new TextEncoder().encode(
  "From: alice@example.test\r\nTo: bob@else.test\r\nSubject: hi\r\n\r\nhello\r\n",
);
const policy = {
  resolver: zoneResolver(parseZone('example.test. TXT "v=spf1 -all"\n')),
  onTempError: "accept" as const,
  enforceDmarc: true,
};

function submission(user: string | null) {
  const tx = testTransaction({ mailFrom: "alice@example.test", rcptTo: ["bob@else.test"] });
  return { ...tx, session: { ...tx.session, user, protocol: user ? "ESMTPSA" : "ESMTP" } };
}

describe("Authentication-Results of an authenticated submission", () => {
  it("carries auth=pass smtp.auth=<login> in our own field, before the other results", async () => {
    const out = await runAuthStage(raw, submission("alice@example.test"), "mx.example.net", policy);
    if (out.kind !== "checked") throw new Error(out.kind);
    expect(out.headers).toMatch(
      /^Authentication-Results: mx\.example\.net;\r\n auth=pass smtp\.auth=alice@example\.test;\r\n dkim=/m,
    );
    expect(out.headers.match(/^Authentication-Results:/gim)).toHaveLength(1);
  });

  it("has no smtp.auth for an unauthenticated session", async () => {
    const out = await runAuthStage(raw, submission(null), "mx.example.net", policy);
    if (out.kind !== "checked") throw new Error(out.kind);
    expect(out.headers).not.toMatch(/smtp\.auth/);
  });

  it("adds a field of its own when no checks run, and quotes a login that is not a plain token", async () => {
    const out = await runAuthStage(raw, submission("alice smith"), "mx.example.net", undefined);
    if (out.kind !== "checked") throw new Error(out.kind);
    expect(out.headers).toBe(
      'Authentication-Results: mx.example.net;\r\n auth=pass smtp.auth="alice smith"\r\n',
    );
    expect(withSmtpAuth("", "mx.example.net", 'a"b\r\n')).toContain('smtp.auth="a\\"b"');
  });
});
