/** Rules and DNSBLs from the config file, end to end with a real SMTP client (Python smtplib). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMxedge, smtpSend, startMxedge } from "./harness.ts";

interface Detail {
  auth: { rules: Array<{ rule: string; actions: string[] }>; dnsbl: { hits: Array<{ zone: string }> } };
  copies: Array<{ mailbox: string }>;
}

describe("rules from the config file", () => {
  let mx: RunningMxedge;
  const dir = mkdtempSync(join(tmpdir(), "mxedge-rules-"));

  beforeAll(async () => {
    // 127.0.0.1 (every test client) is listed on bl.test with 127.0.0.2.
    writeFileSync(join(dir, "zone"), "1.0.0.127.bl.test. A 127.0.0.2\n");
    writeFileSync(
      join(dir, "mxedge.toml"),
      `[[dnsbl]]
zone = "bl.test=127.0.0.[2..11]"

[[rules]]
name = "friends skip the blocklist"
match = { from = "friend@*" }
action = "accept"

[[rules]]
name = "no watches"
match = { header = { name = "Subject", regex = "cheap\\\\s+watches" } }
action = "reject 554 5.7.1 No watches here"

[[rules]]
name = "tag and file newsletters"
match = { from = "news@*", not = { "src-ip" = "192.0.2.0/24" } }
action = ["tag X-Newsletter: yes", "quarantine", "accept"]
`,
    );
    mx = await startMxedge({
      args: ["--config", join(dir, "mxedge.toml")],
      env: { MXEDGE_DNS_ZONE: join(dir, "zone") },
    });
    expect((await mx.cli(["domain", "add", "example.test"])).code).toBe(0);
    expect(
      (await mx.cli(["user", "add", "bob@example.test", "--password-stdin"], "bob-password-1")).code,
    ).toBe(0);
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("a DNSBL-listed client is refused at RCPT time with 554 5.7.1", async () => {
    const r = await smtpSend("plain", mx.ports.smtp, "someone@sender.test", "bob@example.test", "listed");
    expect(r).toMatchObject({ ok: false, stage: "rcpt", code: 554 });
    expect(r.reply).toMatch(/^5\.7\.1 Client host listed by bl\.test/);
  });

  it("an accept rule overrides the DNSBL default, and the trace records both", async () => {
    const r = await smtpSend(
      "plain",
      mx.ports.smtp,
      "friend@sender.test",
      "bob@example.test",
      "hello friend",
    );
    expect(r).toMatchObject({ ok: true, code: 250 });
    const d = (await mx.api<Detail>(`/api/messages/${r.reply.split(" ").pop()}`)).body;
    expect(d.auth.dnsbl.hits).toEqual([expect.objectContaining({ zone: "bl.test" })]);
    expect(d.auth.rules).toEqual([{ rule: "friends skip the blocklist", actions: ["accept"] }]);
  });

  it("a header rule rejects after DATA; tag + quarantine files the message in Junk with the header", async () => {
    const watches = await smtpSend(
      "plain",
      mx.ports.smtp,
      "friend@sender.test",
      "bob@example.test",
      "cheap watches",
    );
    // "friend@" is accepted by the first rule before the header rule is reached: order matters.
    expect(watches).toMatchObject({ ok: true, code: 250 });
    const news = await smtpSend(
      "plain",
      mx.ports.smtp,
      "news@sender.test",
      "bob@example.test",
      "cheap watches",
    );
    expect(news).toMatchObject({ ok: false, code: 554 });
    expect(news.reply).toBe("5.7.1 No watches here");
    const ok = await smtpSend("plain", mx.ports.smtp, "news@sender.test", "bob@example.test", "monthly news");
    expect(ok).toMatchObject({ ok: true, code: 250 });
    const id = ok.reply.split(" ").pop();
    const d = (await mx.api<Detail>(`/api/messages/${id}`)).body;
    expect(d.copies).toEqual([expect.objectContaining({ mailbox: "Junk" })]);
    expect((await mx.api<string>(`/api/messages/${id}/raw`)).body).toMatch(/\r\nX-Newsletter: yes\r\n/);
  });
});
