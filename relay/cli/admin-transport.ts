/**
 * Chooses where admin commands go: a remote edge (`--edge URL` or MXEDGE_EDGE_URL, with the admin
 * token from --token-file, MXEDGE_ADMIN_TOKEN or --token), or the embedded data directory, whose edge
 * app is built in this process and called through fetch() exactly as the HTTP server would.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../../src/config.ts";
import { parseCidrList } from "../../src/net/cidr.ts";
import { adminEdgeOptions } from "../admin-options.ts";
import { CommandUsageError } from "./commands.ts";
import { type AdminTransport, fetchTransport } from "./transport.ts";

function adminToken(values: Record<string, unknown>, env: Record<string, string | undefined>): string {
  const file = values["token-file"];
  if (typeof file === "string") {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new CommandUsageError(`cannot read the token file ${file}: ${(err as Error).message}`);
    }
  }
  if (env.MXEDGE_ADMIN_TOKEN) return env.MXEDGE_ADMIN_TOKEN;
  if (typeof values.token === "string") return values.token;
  throw new CommandUsageError(
    "a remote edge needs the admin token: --token-file FILE or MXEDGE_ADMIN_TOKEN (or --token TOKEN)",
  );
}

export async function adminTransport(
  config: Config,
  values: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Promise<{ transport: AdminTransport; close(): void }> {
  if (config.edge.url) {
    const token = adminToken(values, env);
    return { transport: fetchTransport(config.edge.url, token, (req) => fetch(req)), close() {} };
  }
  // The edge (pipeline, mailauth, SQLite) is loaded only when it runs in this process.
  const { resolverFromConfig } = await import("../../edge/dns-config.ts");
  const { openEmbeddedEdge } = await import("../../edge/embedded.ts");
  const dataDir = resolve(config.dataDir);
  // A token that exists only for this process: the in-process edge checks it like any other.
  const token = randomBytes(24).toString("base64url");
  const edge = await openEmbeddedEdge({
    dataDir,
    hostname: config.hostname,
    relaySecret: randomBytes(24).toString("base64url"),
    adminToken: token,
    maxMessageBytes: config.limits.maxMessageBytes,
    auth: {
      resolver: resolverFromConfig(config.dns),
      onTempError: config.auth.onTempError,
      enforceDmarc: config.auth.enforceDmarc,
    },
    webhookAllow: parseCidrList(config.webhookAllow),
    publicUrl: config.publicUrl ?? `http://${config.http.host}:${config.http.port}`,
    ...adminEdgeOptions(config, dataDir, env),
  });
  return {
    transport: fetchTransport("http://edge.internal", token, (req) => edge.app.fetch(req)),
    close: () => edge.close(),
  };
}
