/**
 * The admin API on workerd + D1: token checks, field-level 400s, the OpenAPI document, DKIM keys made
 * with the Worker's WebCrypto, the MTA-STS policy by host name, and imported Dovecot hashes (bcrypt,
 * SHA-crypt, Argon2id) verified inside the Worker and re-hashed on the first good login.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directConnection } from "../../src/connection.ts";

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const call = (path: string, init?: RequestInit, base = "https://edge.test") =>
  exports.default.fetch(new Request(`${base}${path}`, init));
const post = (path: string, body: unknown, method = "POST") =>
  call(path, {
    method,
    headers: { ...admin, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

// Made with Debian's `doveadm pw -p secret` (the e2e tests run doveadm itself; these pin the Worker side).
const DOVECOT = [
  "bf@legacy.test:{BLF-CRYPT}$2y$05$EBSraRAbbn4QJOAopw5Rw.yQA7DoJhsOe4/XEQgtdYjW1AEV6lYye",
  "s512@legacy.test:{SHA512-CRYPT}$6$xZdo1r4cBKkiHZQz$M3NpPLF6kekHP8BFjKlMgfPObAx5vfu5VuMb.IRS5kUaj0Zaojftwm8FVjv/zd76KT1God.MPjWxTjStXtzGQ/",
  "s256@legacy.test:{SHA256-CRYPT}$5$pgJt854quOzya3K9$O1bkai1fn72BYuE4tDr8tJW3pDDTWcaXcgn2G9/Ngf0",
  "a2@legacy.test:{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$KEpNAH8Jfht5ugL6PYjATQ$cZ5gwXwN3LKU7022y0YNRMMHQWdcBKlSu0HJBImZtmQ",
];

const login = async (username: string, password: string) => {
  const res = await call("/relay/v1/auth", {
    method: "POST",
    headers: { authorization: `Bearer ${env.RELAY_SECRET}`, "content-type": "application/json" },
    body: JSON.stringify({
      username,
      password,
      mechanism: "PLAIN",
      connection: directConnection({ address: "192.0.2.1", port: 4000 }, { address: "127.0.0.1", port: 465 }),
    }),
  });
  return ((await res.json()) as { ok: boolean }).ok;
};

describe("admin API on workerd + D1", () => {
  it("refuses a missing or wrong token with 401", async () => {
    expect((await call("/api/domains")).status).toBe(401);
    const wrong = await call("/api/domains", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect((await call("/api/users", { method: "POST", body: "{}" })).status).toBe(401);
  });

  it("answers bad bodies with 400 and one message per field", async () => {
    const user = await post("/api/users", { address: "not-an-address", password: "short" });
    expect(user.status).toBe(400);
    const body = (await user.json()) as { error: string; issues: Array<{ path: string; message: string }> };
    expect(body.issues.map((i) => i.path)).toEqual(["address", "password"]);
    expect(body.issues[1]?.message).toBe("must be at least 8 characters");

    const extra = (await (await post("/api/domains", { name: "a.test", color: "red" })).json()) as {
      issues: Array<{ path: string }>;
    };
    expect(extra.issues.map((i) => i.path)).toEqual(["(body)"]);
    const alias = (await (await post("/api/aliases", { address: "a@b.test", targets: [] })).json()) as {
      issues: Array<{ path: string }>;
    };
    expect(alias.issues[0]?.path).toMatch(/^targets/);
    const notJson = await call("/api/domains", { method: "POST", headers: admin, body: "{" });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: "the body must be JSON", issues: [] });
    const dkim = await post("/api/domains/a.test/dkim", { algorithm: "dsa" });
    expect(dkim.status).toBe(400);
    expect(((await dkim.json()) as { issues: Array<{ path: string }> }).issues[0]?.path).toBe("algorithm");
  });

  it("serves the OpenAPI document without a token, built from the same schemas", async () => {
    const res = await call("/api/openapi.json");
    expect(res.status).toBe(200);
    type Schema = { required: string[]; properties: Record<string, { minLength?: number }> };
    type Operation = { requestBody: { content: Record<string, { schema: Schema }> } };
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, Operation>> };
    expect(doc.openapi).toBe("3.1.0");
    const schema = doc.paths["/api/users"]?.post?.requestBody.content["application/json"]?.schema;
    expect(schema?.required).toEqual(["address", "password"]);
    expect(schema?.properties.password?.minLength).toBe(8);
  });

  it("generates DKIM keys with the Worker's WebCrypto and prints them in the zone", async () => {
    expect((await post("/api/domains", { name: "keys.test" })).status).toBe(201);
    const rsa = await post("/api/domains/keys.test/dkim", { selector: "r1" });
    expect(rsa.status).toBe(201);
    expect(((await rsa.json()) as { record: string }).record).toMatch(
      /^v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA/,
    );
    const ed = await post("/api/domains/keys.test/dkim", { selector: "e1", algorithm: "ed25519" });
    expect(((await ed.json()) as { record: string }).record).toMatch(
      /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/,
    );
    const again = await post("/api/domains/keys.test/dkim", {});
    expect(again.status).toBe(409);
    const zone = (
      (await (await call("/api/domains/keys.test/dns", { headers: admin })).json()) as { zone: string }
    ).zone;
    expect(zone).toMatch(/^r1\._domainkey +3600 IN TXT/m);
    expect(zone).toMatch(/^e1\._domainkey +3600 IN TXT/m);
    expect(zone).toMatch(/^@ +3600 IN MX +10 mx\.example\.com\.$/m);
  });

  it("serves the MTA-STS policy for mta-sts.<domain>", async () => {
    await post("/api/domains", { name: "sts.test" });
    expect((await post("/api/domains/sts.test", { mtaSts: { mode: "enforce" } }, "PATCH")).status).toBe(200);
    const res = await call("/.well-known/mta-sts.txt", {}, "https://mta-sts.sts.test");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 604800\r\n",
    );
  });

  it("imports Dovecot hashes that verify inside the Worker and are re-hashed on login", async () => {
    await post("/api/domains", { name: "legacy.test" });
    const res = await post("/api/users/import", {
      format: "dovecot-passwd",
      text: `${DOVECOT.join("\n")}\nbad line\n`,
    });
    const report = (await res.json()) as { imported: unknown[]; errors: Array<{ line: number }> };
    expect(report.imported).toHaveLength(4);
    expect(report.errors.map((e) => e.line)).toEqual([5]);
    for (const line of DOVECOT) {
      const user = line.split(":")[0] as string;
      expect(await login(user, "not secret"), user).toBe(false);
      expect(await login(user, "secret"), user).toBe(true);
      const row = await env.DB.prepare("select password_hash from users where login = ?")
        .bind(user)
        .first<{ password_hash: string }>();
      expect(row?.password_hash, user).toMatch(/^\$pbkdf2-sha256\$i=100000\$/);
      expect(await login(user, "secret"), user).toBe(true);
    }
  }, 60_000);
});
