import { describe, expect, it } from "vitest";
import { capabilities, decodePlain } from "../../relay/imap/auth.ts";
import { decodedBody } from "../../src/imap/binary.ts";
import { parseMime } from "../../src/imap/mime.ts";
import { locate } from "../../src/imap/section.ts";

const enc = new TextEncoder();

describe("capabilities and SASL PLAIN", () => {
  it("offers login only where it is allowed", () => {
    expect(capabilities(false, false, true)).toEqual(expect.arrayContaining(["STARTTLS", "LOGINDISABLED"]));
    expect(capabilities(false, false, false)).not.toContain("STARTTLS");
    expect(capabilities(false, true, true)).toContain("AUTH=PLAIN");
    expect(capabilities(false, true, true)).not.toContain("STARTTLS");
    expect(capabilities(true, true, true)).not.toContain("AUTH=PLAIN");
  });

  it("decodes PLAIN responses", () => {
    expect(decodePlain(btoa("\u0000bob@x.test\u0000pw d"))).toEqual({
      authz: "",
      authc: "bob@x.test",
      password: "pw d",
    });
    expect(decodePlain(btoa("admin\u0000bob\u0000pw"))).toEqual({
      authz: "admin",
      authc: "bob",
      password: "pw",
    });
    expect(decodePlain(btoa("bob\u0000pw"))).toBeNull();
    expect(decodePlain("!!!")).toBeNull();
    expect(decodePlain("=")).toBeNull();
  });
});

describe("BINARY decoding", () => {
  const raw = enc.encode(
    [
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "caf=C3=A9 soft=",
      "break=3D",
      "--b",
      "Content-Transfer-Encoding: base64",
      "",
      "AAEC",
      "/w==",
      "--b",
      "Content-Transfer-Encoding: x-uuencode",
      "",
      "begin",
      "--b--",
    ].join("\r\n"),
  );
  const root = parseMime(raw);
  const part = (n: number) => {
    const p = locate(root, [n]);
    if (!p) throw new Error("no part");
    return decodedBody(raw, p);
  };

  it("undoes quoted-printable and base64, and refuses unknown encodings", () => {
    expect(new TextDecoder().decode(part(1) as Uint8Array)).toBe("café softbreak=");
    expect(Array.from(part(2) as Uint8Array)).toEqual([0, 1, 2, 255]);
    expect(part(3)).toBeNull();
  });
});
