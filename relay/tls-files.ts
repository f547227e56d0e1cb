/** Certificates for the relay: configured PEM files, or a self-signed pair made once in the data directory. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import selfsigned from "selfsigned";

export interface CertificatePair {
  key: string;
  cert: string;
  selfSigned: boolean;
}

export async function loadCertificate(
  dataDir: string,
  configured: { cert?: string; key?: string },
  hostname: string,
): Promise<CertificatePair> {
  if (configured.cert && configured.key) {
    return {
      cert: readFileSync(configured.cert, "utf8"),
      key: readFileSync(configured.key, "utf8"),
      selfSigned: false,
    };
  }
  const dir = join(dataDir, "tls");
  const certPath = join(dir, "selfsigned.crt");
  const keyPath = join(dir, "selfsigned.key");
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pems = await selfsigned.generate([{ name: "commonName", value: hostname }], {
      keySize: 2048,
      algorithm: "sha256",
      extensions: [
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: hostname },
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
          ],
        },
      ],
    } as Parameters<typeof selfsigned.generate>[1]);
    writeFileSync(keyPath, pems.private, { mode: 0o600 });
    writeFileSync(certPath, pems.cert);
  }
  return { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8"), selfSigned: true };
}

export function secureContextFor(pair: CertificatePair): SecureContext {
  return createSecureContext({ key: pair.key, cert: pair.cert, minVersion: "TLSv1.2" });
}
