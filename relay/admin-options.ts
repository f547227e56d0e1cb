/**
 * What the embedded edge needs for administration, from the configuration and the data directory:
 * the public host names and ports (DNS records, MTA-STS, autoconfig) and the DKIM key-encryption
 * secret (MXEDGE_DKIM_KEY, else <data>/dkim.key, made with mode 0600 on first use).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MailService, mailService } from "../src/admin/mail-service.ts";
import type { Config } from "../src/config.ts";

export function dkimSecret(dataDir: string, env: Record<string, string | undefined>): string {
  if (env.MXEDGE_DKIM_KEY) return env.MXEDGE_DKIM_KEY;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, "dkim.key");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: "wx" });
  return secret;
}

export function configuredMailService(config: Config): MailService {
  const port = (role: string) => config.listeners.find((l) => l.role === role)?.port;
  const ports: Partial<MailService["ports"]> = {};
  for (const role of ["submissions", "submission", "imaps", "imap"] as const) {
    const p = port(role);
    if (p !== undefined && p !== 0) ports[role] = p;
  }
  return mailService({ hostname: config.hostname, publicUrl: config.publicUrl, ports });
}

export function adminEdgeOptions(
  config: Config,
  dataDir: string,
  env: Record<string, string | undefined>,
): { mailService: MailService; dkimSecret: string } {
  return { mailService: configuredMailService(config), dkimSecret: dkimSecret(dataDir, env) };
}
