/**
 * Dovecot `passwd-file` lines (`user:{SCHEME}hash:uid:gid:gecos:home:shell:extra`), for importing users
 * with their existing passwords. Each line is judged on its own, so an import can go on past bad ones.
 */
import { legacyScheme } from "../store/legacy-hashes.ts";

export type PasswdLine = { line: number; login: string; hash: string } | { line: number; error: string };

const SCHEMES: Record<string, (hash: string) => boolean> = {
  "BLF-CRYPT": (h) => legacyScheme(h) === "bcrypt",
  "SHA512-CRYPT": (h) => legacyScheme(h) === "sha512-crypt",
  "SHA256-CRYPT": (h) => legacyScheme(h) === "sha256-crypt",
  ARGON2ID: (h) => legacyScheme(h) === "argon2id",
  // {CRYPT} (and no prefix) is whatever crypt(3) string follows.
  CRYPT: (h) => legacyScheme(h) !== null,
};

export function parseDovecotPasswd(text: string): PasswdLine[] {
  const out: PasswdLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const fields = raw.split(":");
    const login = (fields[0] ?? "").trim().toLowerCase();
    const password = fields[1] ?? "";
    if (fields.length < 2 || login === "") {
      out.push({ line, error: "expected user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]" });
      return;
    }
    if (!login.includes("@")) {
      out.push({
        line,
        error: `user ${JSON.stringify(login)} has no domain; mxedge logins are full addresses`,
      });
      return;
    }
    const m = /^\{([A-Z0-9.-]+)\}(.*)$/i.exec(password);
    const scheme = m ? (m[1] as string).toUpperCase() : "CRYPT";
    const hash = m ? (m[2] as string) : password;
    const check = SCHEMES[scheme];
    if (!check) {
      out.push({
        line,
        error: `unsupported scheme {${scheme}} (supported: BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, ARGON2ID, CRYPT)`,
      });
      return;
    }
    if (!check(hash)) {
      out.push({ line, error: `malformed {${scheme}} hash` });
      return;
    }
    out.push({ line, login, hash });
  });
  return out;
}
