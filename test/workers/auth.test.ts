/**
 * Parity: the python3-dkim corpus through the Worker bundle on workerd + D1, with the same zone the Node
 * tests use. The verdicts must match the Node run (test/unit/authenticate.test.ts, test/e2e/auth.test.ts).
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeTransaction, type Transaction } from "../../src/contract.ts";

const corpus: Record<string, number[]> = env.TEST_CORPUS ? JSON.parse(env.TEST_CORPUS) : {};
const relay = { authorization: `Bearer ${env.RELAY_SECRET}` };
const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(`https://edge.test${path}`, init));

function tx(mailFrom: string): Transaction {
  return {
    version: 1,
    mailFrom,
    rcptTo: ["carol@parity.test"],
    declaredSize: null,
    body: null,
    smtputf8: false,
    dsn: null,
    session: {
      helo: "mail.signed.test",
      user: null,
      protocol: "ESMTP",
      rdns: null,
      connection: {
        client: { address: "192.0.2.7", port: 40000 },
        server: { address: "127.0.0.1", port: 25 },
        proxy: null,
        proxyVersion: null,
        tls: null,
        authority: null,
        uniqueId: null,
        alpn: null,
      },
    },
  };
}

async function ingest(name: string, mailFrom: string, bytes: Uint8Array) {
  const res = await call("/relay/v1/messages", {
    method: "POST",
    headers: {
      ...relay,
      "mxedge-transaction": encodeTransaction(tx(mailFrom)),
      "idempotency-key": `parity-${name}-0001`,
    },
    body: bytes,
  });
  return {
    status: res.status,
    body: (await res.json()) as { id?: string; reply: { code: number; enhanced: string; message: string } },
  };
}

describe.runIf(env.TEST_CORPUS !== "")("authentication parity on workerd + D1", () => {
  beforeAll(async () => {
    await call("/api/domains", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "parity.test" }),
    });
    await call("/api/users", {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ address: "carol@parity.test", password: "parity-password" }),
    });
  });

  it("DKIM passes for RSA and Ed25519 signatures, SPF passes for the listed IP, DMARC passes", async () => {
    for (const [name, algorithm] of [
      ["rsa", "rsa-sha256"],
      ["ed25519", "ed25519-sha256"],
    ] as const) {
      const r = await ingest(name, "alice@signed.test", Uint8Array.from(corpus[name]!));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const detail = (await (await call(`/api/messages/${r.body.id}`, { headers: admin })).json()) as {
        auth: {
          spf: { result: string };
          dkim: Array<{ result: string; algorithm: string }>;
          dmarc: { result: string };
        };
      };
      expect(detail.auth.dkim).toEqual([expect.objectContaining({ result: "pass", algorithm })]);
      expect(detail.auth.spf.result).toBe("pass");
      expect(detail.auth.dmarc.result).toBe("pass");
    }
  });

  it("a tampered signature does not pass, and DMARC p=reject refuses it with 550 5.7.1", async () => {
    const r = await ingest("headerModified", "alice@signed.test", Uint8Array.from(corpus.headerModified!));
    // SPF passes for 192.0.2.7, so DMARC passes on SPF alignment even though DKIM fails.
    expect(r.status).toBe(200);
    const detail = (await (await call(`/api/messages/${r.body.id}`, { headers: admin })).json()) as {
      auth: { dkim: Array<{ result: string }> };
    };
    expect(detail.auth.dkim[0]?.result).toBe("fail");
    const unsigned = new TextEncoder().encode("From: a@signed.test\r\nSubject: no\r\n\r\nx\r\n");
    const refused = await call("/relay/v1/messages", {
      method: "POST",
      headers: {
        ...relay,
        "mxedge-transaction": encodeTransaction({
          ...tx("a@signed.test"),
          session: {
            ...tx("a@signed.test").session,
            connection: { ...tx("a").session.connection, client: { address: "198.51.100.1", port: 1 } },
          },
        }),
        "idempotency-key": "parity-reject-0001",
      },
      body: unsigned,
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { reply: { code: number; enhanced: string } }).reply).toMatchObject({
      code: 550,
      enhanced: "5.7.1",
    });
  });

  it("an ARC-sealed forward validates", async () => {
    const r = await ingest("arcSealed", "alice@signed.test", Uint8Array.from(corpus.arcSealed!));
    const detail = (await (await call(`/api/messages/${r.body.id}`, { headers: admin })).json()) as {
      auth: { arc: { result: string } };
    };
    expect(detail.auth.arc.result).toBe("pass");
  });
});
