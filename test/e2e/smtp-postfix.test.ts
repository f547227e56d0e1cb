/**
 * Real Postfix (Debian's package, a private instance) as the sending MTA: `relayhost = [127.0.0.1]:<mx>`,
 * 200 messages injected with sendmail, all 200 stored exactly once. Under CI a missing Postfix fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningMxedge } from "./harness.ts";
import { listMessages, startWithUser, USER } from "./smtp-fixtures.ts";
import { postfixAvailable, type RunningPostfix, startPostfix } from "./smtp-postfix.ts";

const COUNT = 200;
const available = postfixAvailable();
if (!available && process.env.CI === "true") {
  throw new Error("postfix (Debian package, run as root) is required under CI: see .ci/apt.sh");
}

describe.skipIf(!available)("Postfix as the sending MTA", () => {
  let mx: RunningMxedge;
  let postfix: RunningPostfix;
  beforeAll(async () => {
    mx = await startWithUser();
    postfix = await startPostfix({ relayhost: `[127.0.0.1]:${mx.ports.smtp}` });
  });
  afterAll(async () => {
    await postfix?.stop();
    await mx?.stop();
  });

  it(`hands over ${COUNT} messages, each stored exactly once`, async () => {
    const ids = Array.from({ length: COUNT }, (_, i) => i);
    for (let i = 0; i < COUNT; i += 20) {
      await Promise.all(
        ids
          .slice(i, i + 20)
          .map((n) =>
            postfix.sendmail(
              "alice@pfx.e2e.test",
              USER,
              `From: alice@pfx.e2e.test\nTo: ${USER}\nSubject: postfix ${n}\nMessage-ID: <pfx.${n}@e2e.test>\n\nmessage ${n}\n`,
            ),
          ),
      );
    }
    const deadline = Date.now() + 60_000;
    while (postfix.queued() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(postfix.queued(), await postfix.log()).toBe(0);
    const stored = (await listMessages(mx)).filter((m) => m.messageId?.startsWith("<pfx."));
    expect(stored).toHaveLength(COUNT);
    expect(new Set(stored.map((m) => m.messageId)).size).toBe(COUNT);
    const log = await postfix.log();
    expect(log.match(/status=sent \(250 2\.0\.0 OK: queued as /g)).toHaveLength(COUNT);
  });
});
