/**
 * Self-signed P-256 certificates made with Debian's openssl, for the TLS tests (certificate store, file
 * hot reload, ACME renewal).
 */
import { execFileSync } from "node:child_process";

/** Writes a certificate for CN `cn` with the subjectAltName `san` (e.g. "DNS:a.test,DNS:b.test"). */
export function writeSelfSigned(opts: {
  certPath: string;
  keyPath: string;
  cn: string;
  san: string;
  days: number;
}): void {
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat(
      ["-days", String(opts.days), "-subj", `/CN=${opts.cn}`, "-addext", `subjectAltName=${opts.san}`],
      ["-keyout", opts.keyPath, "-out", opts.certPath],
    ),
    { stdio: "ignore" },
  );
}

/** The certificate file's SHA-256 fingerprint as openssl prints it (upper-case hex, colon-separated). */
export function certFingerprint(certPath: string): string {
  const out = execFileSync("openssl", [
    "x509",
    "-in",
    certPath,
    "-noout",
    "-fingerprint",
    "-sha256",
  ]).toString();
  return out.split("=")[1]?.trim() ?? "";
}
