/** The foundation's end-to-end path, shared by the Node and Deno runs: SMTP in → edge → SQLite → API. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMxedge, type Runtime, smtpSend, startMxedge } from "./harness.ts";

interface Listed {
  messages: Array<{
    id: string;
    subject: string;
    from: string;
    to: string[];
    mailFrom: string;
    rcptTo: string[];
    date: string | null;
  }>;
}

export function mailPathSuite(runtime: Runtime, env: Record<string, string> = {}): void {
  const extra = Object.entries(env)
    .map(([k, v]) => ` ${k}=${v}`)
    .join("");
  describe(`mxedge serve under ${runtime}${extra}`, () => {
    let mx: RunningMxedge;

    beforeAll(async () => {
      mx = await startMxedge({ runtime, env });
      const d = await mx.cli(["domain", "add", "example.test"]);
      expect(d, d.stderr).toMatchObject({ code: 0 });
      const u = await mx.cli(
        ["user", "add", "someone@example.test", "--password-stdin"],
        "s3cret-passw0rd\n",
      );
      expect(u, u.stderr).toMatchObject({ code: 0 });
    });
    afterAll(async () => {
      await mx?.stop();
    });

    it("accepts mail for a user on the MX port and lists it through the API", async () => {
      const sent = await smtpSend(
        "plain",
        mx.ports.smtp,
        "alice@sender.test",
        "someone@example.test",
        `plain ${runtime}`,
      );
      expect(sent).toMatchObject({ ok: true, code: 250 });
      expect(sent.reply).toMatch(/^2\.0\.0 OK: queued as [0-9A-Z]{26}$/);
      const id = sent.reply.split(" ").pop();
      const { status, body } = await mx.api<Listed>("/api/messages");
      expect(status).toBe(200);
      const m = body.messages.find((x) => x.id === id);
      expect(m).toMatchObject({
        subject: `plain ${runtime}`,
        from: "alice@sender.test",
        to: ["someone@example.test"],
        mailFrom: "alice@sender.test",
        rcptTo: ["someone@example.test"],
      });
      const raw = await mx.api<string>(`/api/messages/${id}/raw`);
      expect(raw.body).toMatch(
        /^Received: from client\.e2e\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.e2e\.test \(mxedge\) with ESMTP id /,
      );
      expect(raw.body).toContain("\r\n\r\nHello from smtplib.\r\n");
    });

    it("records STARTTLS as ESMTPS", async () => {
      const sent = await smtpSend(
        "starttls",
        mx.ports.smtp,
        "alice@sender.test",
        "someone+tag@example.test",
        `tls ${runtime}`,
      );
      expect(sent).toMatchObject({ ok: true, code: 250 });
      const raw = await mx.api<string>(`/api/messages/${sent.reply.split(" ").pop()}/raw`);
      expect(raw.body).toMatch(
        /with ESMTPS id .*\r\n\tfor <someone\+tag@example\.test>\r\n\t\(using TLSv1\.[23] with cipher /,
      );
    });

    it("takes authenticated submission over implicit TLS and over STARTTLS", async () => {
      const auth = { user: "someone@example.test", password: "s3cret-passw0rd" };
      const ssl = await smtpSend(
        "ssl",
        mx.ports.submissions,
        "someone@example.test",
        "someone@example.test",
        `465 ${runtime}`,
        auth,
      );
      expect(ssl).toMatchObject({ ok: true, code: 250 });
      const starttls = await smtpSend(
        "starttls",
        mx.ports.submission,
        "someone@example.test",
        "someone@example.test",
        `587 ${runtime}`,
        auth,
      );
      expect(starttls).toMatchObject({ ok: true, code: 250 });
      const raw = await mx.api<string>(`/api/messages/${starttls.reply.split(" ").pop()}/raw`);
      expect(raw.body).toMatch(/with ESMTPSA id /);
      const bad = await smtpSend(
        "ssl",
        mx.ports.submissions,
        "someone@example.test",
        "someone@example.test",
        "x",
        { ...auth, password: "wrong-password" },
      );
      expect(bad).toMatchObject({ ok: false, stage: "auth", code: 535 });
      expect(bad.reply).toMatch(/^5\.7\.8 /);
    });

    it("refuses unknown users and relaying at RCPT time, storing nothing", async () => {
      const before = (await mx.api<Listed>("/api/messages")).body.messages.length;
      expect(
        await smtpSend("plain", mx.ports.smtp, "a@sender.test", "nobody@example.test", "x"),
      ).toMatchObject({ ok: false, stage: "rcpt", code: 550, reply: expect.stringMatching(/^5\.1\.1 /) });
      expect(await smtpSend("plain", mx.ports.smtp, "a@sender.test", "user@other.test", "x")).toMatchObject({
        ok: false,
        stage: "rcpt",
        code: 554,
        reply: expect.stringMatching(/^5\.7\.1 /),
      });
      expect((await mx.api<Listed>("/api/messages")).body.messages.length).toBe(before);
    });

    it("keeps the admin API behind the token", async () => {
      const res = await fetch(`http://127.0.0.1:${mx.ports.http}/api/messages`);
      expect(res.status).toBe(401);
    });

    it("greets on the IMAP listener", async () => {
      const { createConnection } = await import("node:net");
      const greeting = await new Promise<string>((resolve, reject) => {
        const s = createConnection(mx.ports.imap, "127.0.0.1");
        let data = "";
        s.on("data", (d) => {
          data += d.toString();
          if (data.includes("\r\n")) s.end();
        });
        s.on("close", () => resolve(data));
        s.on("error", reject);
      });
      expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS LOGINDISABLED\]/);
    });
  });
}
