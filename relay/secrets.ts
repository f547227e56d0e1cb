/** The embedded server's secrets: made once, kept in <data>/secrets.json (mode 0600), overridable by env. */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Secrets {
  relaySecret: string;
  adminToken: string;
}

export function loadSecrets(dataDir: string, env: Record<string, string | undefined>): Secrets {
  const path = join(dataDir, "secrets.json");
  let stored: Partial<Secrets> = {};
  if (existsSync(path)) stored = JSON.parse(readFileSync(path, "utf8")) as Partial<Secrets>;
  const made: Secrets = {
    relaySecret: stored.relaySecret ?? randomBytes(32).toString("base64url"),
    adminToken: stored.adminToken ?? randomBytes(24).toString("base64url"),
  };
  if (made.relaySecret !== stored.relaySecret || made.adminToken !== stored.adminToken) {
    writeFileSync(path, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    relaySecret: env.MXEDGE_RELAY_SECRET || made.relaySecret,
    adminToken: env.MXEDGE_ADMIN_TOKEN || made.adminToken,
  };
}
