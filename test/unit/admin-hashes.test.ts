/**
 * Imported password hashes: each verifier against hashes made by Debian's `doveadm pw` (Dovecot's own
 * implementation) and the SHA-crypt specification's published vectors; the passwd-file parser.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseDovecotPasswd } from "../../src/admin/dovecot-passwd.ts";
import { legacyScheme, shaCryptDigest, verifyLegacy } from "../../src/store/legacy-hashes.ts";
import { hashPassword, isVerifiableHash, needsRehash, verifyPassword } from "../../src/store/password.ts";
import { requireTools } from "../e2e/tools.ts";

const enc = new TextEncoder();

describe("SHA-crypt", () => {
  // Test vectors of "Unix crypt using SHA-256 and SHA-512" (Drepper); the first two also match `openssl passwd -5/-6`.
  it.each([
    [5, "saltstring", "Hello world!", 5000, "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"],
    [
      6,
      "saltstring",
      "Hello world!",
      5000,
      "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
    ],
    [
      5,
      "roundstoolow",
      "the minimum number is still observed",
      1000,
      "yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC",
    ],
    [
      6,
      "roundstoolow",
      "the minimum number is still observed",
      1000,
      "kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.",
    ],
  ] as const)("$%s$ %s matches the specification", (variant, salt, password, rounds, digest) => {
    expect(shaCryptDigest(variant, enc.encode(password), enc.encode(salt), rounds)).toBe(digest);
  });

  it("verifies a rounds= hash and refuses a wrong password", async () => {
    const stored =
      "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";
    expect(legacyScheme(stored)).toBe("sha512-crypt");
    expect(await verifyLegacy("Hello world!", stored)).toBe(true);
    expect(await verifyLegacy("Hello world?", stored)).toBe(false);
  });
});

describe.runIf(requireTools("doveadm"))("hashes made by doveadm pw", () => {
  const password = "Imported pass 7!";
  const made = (scheme: string) =>
    execFileSync("doveadm", ["pw", "-s", scheme, "-p", password], { encoding: "utf8" }).trim();

  it.each(["BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "ARGON2ID"])(
    "%s verifies, and a wrong password does not",
    async (scheme) => {
      const line = made(scheme);
      const hash = line.slice(line.indexOf("}") + 1);
      expect(isVerifiableHash(hash)).toBe(true);
      expect(needsRehash(hash)).toBe(true);
      expect(await verifyPassword(password, hash)).toBe(true);
      expect(await verifyPassword(`${password}x`, hash)).toBe(false);
    },
  );
});

describe("own PBKDF2 hashes", () => {
  it("are not re-hashed and still verify", async () => {
    const h = await hashPassword("a long password");
    expect(needsRehash(h)).toBe(false);
    expect(isVerifiableHash(h)).toBe(true);
    expect(await verifyPassword("a long password", h)).toBe(true);
    expect(isVerifiableHash("{PLAIN}secret")).toBe(false);
  });
});

describe("Dovecot passwd-file lines", () => {
  it("parses good lines and names each bad one with its line number", () => {
    const text = [
      "# comment",
      "ann@example.test:{SHA512-CRYPT}$6$xZdo1r4cBKkiHZQz$M3NpPLF6kekHP8BFjKlMgfPObAx5vfu5VuMb.IRS5kUaj0Zaojftwm8FVjv/zd76KT1God.MPjWxTjStXtzGQ/::::::",
      "",
      "bob@example.test:{PLAIN}secret::::",
      "carl:{BLF-CRYPT}$2y$05$EBSraRAbbn4QJOAopw5Rw.yQA7DoJhsOe4/XEQgtdYjW1AEV6lYye",
      "dora@example.test:{SHA256-CRYPT}$5$short",
      "no colon here",
      "eve@example.test:$2y$05$EBSraRAbbn4QJOAopw5Rw.yQA7DoJhsOe4/XEQgtdYjW1AEV6lYye:1000:1000::/home/eve::",
    ].join("\n");
    const lines = parseDovecotPasswd(text);
    expect(lines).toEqual([
      { line: 2, login: "ann@example.test", hash: expect.stringMatching(/^\$6\$/) },
      { line: 4, error: expect.stringMatching(/unsupported scheme \{PLAIN\}/) },
      { line: 5, error: expect.stringMatching(/has no domain/) },
      { line: 6, error: "malformed {SHA256-CRYPT} hash" },
      { line: 7, error: expect.stringMatching(/expected user:/) },
      { line: 8, login: "eve@example.test", hash: expect.stringMatching(/^\$2y\$/) },
    ]);
  });
});
