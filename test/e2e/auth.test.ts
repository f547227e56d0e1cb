/**
 * Authentication end to end: swaks hands the embedded server a message signed by python3-dkim, with DNS
 * from a zone file. The stored message carries our Authentication-Results, the API returns the
 * structured results, DMARC p=reject is refused at SMTP time and p=quarantine lands in Junk.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCorpus, type Corpus, dkimCorpusAvailable, plainMessage } from "../support/dkim-corpus.ts";
import { type RunningMxedge, startMxedge } from "./harness.ts";
import { swaks } from "./swaks.ts";

const enabled = dkimCorpusAvailable("swaks");

interface Detail {
  auth: {
    spf: { result: string };
    dkim: Array<{ result: string; domain: string; algorithm: string }>;
    dmarc: { result: string; policy: string | null };
  };
  copies: Array<{ mailbox: string }>;
}

describe.runIf(enabled)("SPF/DKIM/DMARC end to end", () => {
  let mx: RunningMxedge;
  let corpus: Corpus;
  const dir = mkdtempSync(join(tmpdir(), "mxedge-auth-"));

  const send = (from: string, message: Uint8Array) =>
    swaks({ port: mx.ports.smtp, from, to: "bob@example.test", message, helo: "mail.signed.test" });

  beforeAll(async () => {
    corpus = buildCorpus();
    const zone = join(dir, "corpus.zone");
    writeFileSync(zone, corpus.zone);
    mx = await startMxedge({ env: { MXEDGE_DNS_ZONE: zone } });
    expect((await mx.cli(["domain", "add", "example.test"])).code).toBe(0);
    expect(
      (await mx.cli(["user", "add", "bob@example.test", "--password-stdin"], "bob-password-1")).code,
    ).toBe(0);
  });
  afterAll(async () => {
    await mx?.stop();
  });

  it("a python3-dkim signed message is stored with dkim=pass, in the header and through the API", async () => {
    const r = await send("alice@signed.test", corpus.messages.rsa!);
    expect(r.code, r.line).toBe(250);
    const id = r.line.trim().split(" ").pop() ?? "";
    const raw = (await mx.api<string>(`/api/messages/${id}/raw`)).body;
    expect(raw).toMatch(
      /^Received: [\s\S]*?\r\nAuthentication-Results: mx\.e2e\.test;\r\n dkim=pass header\.i=@signed\.test header\.s=sel1 header\.a=rsa-sha256/,
    );
    const detail = (await mx.api<Detail>(`/api/messages/${id}`)).body;
    expect(detail.auth.dkim).toEqual([
      expect.objectContaining({ result: "pass", domain: "signed.test", algorithm: "rsa-sha256" }),
    ]);
    expect(detail.auth.spf.result).toBe("fail"); // 127.0.0.1 is not in signed.test's SPF record
    expect(detail.auth.dmarc).toMatchObject({ result: "pass" }); // aligned DKIM is enough
    expect(detail.copies).toEqual([expect.objectContaining({ mailbox: "INBOX" })]);
  });

  it("DMARC p=reject failure is refused with 550 5.7.1 at the end of DATA, and nothing is stored", async () => {
    const before = (await mx.api<{ messages: unknown[] }>("/api/messages")).body.messages.length;
    const r = await send("alice@signed.test", plainMessage("alice@signed.test", "unsigned reject"));
    expect(r.code, r.line).toBe(550);
    expect(r.line).toMatch(/5\.7\.1 Rejected by the DMARC policy of signed\.test/);
    expect((await mx.api<{ messages: unknown[] }>("/api/messages")).body.messages.length).toBe(before);
  });

  it("DMARC p=quarantine failure is delivered to Junk", async () => {
    const r = await send("a@quarantine.test", plainMessage("a@quarantine.test", "quarantined"));
    expect(r.code, r.line).toBe(250);
    const detail = (await mx.api<Detail>(`/api/messages/${r.line.trim().split(" ").pop()}`)).body;
    expect(detail.auth.dmarc).toMatchObject({ result: "fail", policy: "quarantine" });
    expect(detail.copies).toEqual([expect.objectContaining({ mailbox: "Junk" })]);
  });

  it("a forged Authentication-Results for our own authserv-id is removed", async () => {
    const forged = new TextEncoder().encode(
      `Authentication-Results: mx.e2e.test; dkim=pass header.d=bank.test; dmarc=pass\r\n${new TextDecoder().decode(plainMessage("a@none.test", "forged"))}`,
    );
    const r = await send("a@none.test", forged);
    expect(r.code, r.line).toBe(250);
    const raw = (await mx.api<string>(`/api/messages/${r.line.trim().split(" ").pop()}/raw`)).body;
    expect(raw.match(/^Authentication-Results:/gm)).toHaveLength(1);
    expect(raw).not.toContain("bank.test");
  });
});
