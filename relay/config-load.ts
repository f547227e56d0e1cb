/**
 * Builds the validated Config from: defaults < config file (TOML or JSON) < MXEDGE_* env < flags.
 * Every failure is one line naming the field (or flag) and the problem.
 */
import { readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { type Config, type ConfigInput, listenerProxyPolicy, parseConfig } from "../src/config.ts";
import { parseCidrList } from "../src/net/cidr.ts";
import { compilePolicy } from "../src/rules/index.ts";
import { checkUrl } from "../src/webhooks/ssrf.ts";
import { resolveProxyPolicy } from "./proxy/index.ts";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Flags and env variables that set one listener's port, by listener name. */
export const PORT_OPTIONS = ["smtp", "submission", "submissions", "imap", "imaps"] as const;

export interface ConfigOverrides {
  config?: string;
  data?: string;
  hostname?: string;
  host?: string;
  http?: string;
  edge?: string;
  /** A static DNS zone file for SPF/DKIM/DMARC (tests, air-gapped set-ups). */
  dnsZone?: string;
  ports: Partial<Record<(typeof PORT_OPTIONS)[number], string>>;
}

type Json = Record<string, unknown>;

/**
 * `:LINE:COLUMN` of a syntax error: smol-toml's error carries both; V8's JSON errors say
 * "(line N column M)" when they know it.
 */
function syntaxPosition(err: unknown): string {
  const e = err as { line?: unknown; column?: unknown; message?: string };
  if (typeof e.line === "number" && typeof e.column === "number") return `:${e.line}:${e.column}`;
  const at = /line (\d+) column (\d+)/.exec(e.message ?? "");
  return at ? `:${at[1]}:${at[2]}` : "";
}

function readConfigFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `config file ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}`,
    );
  }
  try {
    const value: unknown = path.endsWith(".json") ? JSON.parse(text) : parseToml(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new Error("expected a table/object");
    return value as Json;
  } catch (err) {
    throw new ConfigError(
      `config file ${path}${syntaxPosition(err)}: ${(err as Error).message.split("\n")[0]}`,
    );
  }
}

function portNumber(source: string, value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new ConfigError(`${source}: expected a port number 0-65535, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Reads overrides from the environment (MXEDGE_DATA, MXEDGE_SMTP, …). */
export function envOverrides(env: Record<string, string | undefined>): ConfigOverrides {
  const ports: ConfigOverrides["ports"] = {};
  for (const name of PORT_OPTIONS) {
    const v = env[`MXEDGE_${name.toUpperCase()}`];
    if (v !== undefined && v !== "") ports[name] = v;
  }
  const pick = (k: string) => (env[k] === "" ? undefined : env[k]);
  return {
    config: pick("MXEDGE_CONFIG"),
    data: pick("MXEDGE_DATA"),
    hostname: pick("MXEDGE_HOSTNAME"),
    host: pick("MXEDGE_HOST"),
    http: pick("MXEDGE_HTTP"),
    edge: pick("MXEDGE_EDGE_URL"),
    dnsZone: pick("MXEDGE_DNS_ZONE"),
    ports,
  };
}

function apply(base: Json, o: ConfigOverrides, source: (name: string) => string): Json {
  const out: Json = { ...base };
  if (o.data !== undefined) out.dataDir = o.data;
  if (o.hostname !== undefined) out.hostname = o.hostname;
  if (o.edge !== undefined) out.edge = { ...((out.edge as Json) ?? {}), url: o.edge };
  if (o.dnsZone !== undefined) out.dns = { ...((out.dns as Json) ?? {}), mode: "zone", zoneFile: o.dnsZone };
  if (o.http !== undefined || o.host !== undefined) {
    const http = { ...((out.http as Json) ?? {}) };
    if (o.http !== undefined) http.port = portNumber(source("http"), o.http);
    if (o.host !== undefined) http.host = o.host;
    out.http = http;
  }
  const portEntries = Object.entries(o.ports) as Array<[(typeof PORT_OPTIONS)[number], string]>;
  if (portEntries.length > 0 || o.host !== undefined) {
    const listeners = (Array.isArray(out.listeners) ? out.listeners : defaultListeners()) as Json[];
    out.listeners = listeners.map((l) => {
      const next = { ...l };
      const port = o.ports[l.name as (typeof PORT_OPTIONS)[number]];
      if (port !== undefined) next.port = portNumber(source(String(l.name)), port);
      if (o.host !== undefined) next.host = o.host;
      return next;
    });
    for (const [name] of portEntries) {
      if (!listeners.some((l) => l.name === name))
        throw new ConfigError(`${source(name)}: no listener named "${name}" in the config`);
    }
  }
  return out;
}

function defaultListeners(): Json[] {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new ConfigError(parsed.error);
  return parsed.config.listeners as unknown as Json[];
}

export function loadConfig(flags: ConfigOverrides, env: Record<string, string | undefined>): Config {
  const fromEnv = envOverrides(env);
  const file = flags.config ?? fromEnv.config;
  let input: Json = file ? readConfigFile(file) : {};
  input = apply(input, fromEnv, (n) => `MXEDGE_${n.toUpperCase()}`);
  input = apply(input, flags, (n) => `--${n}`);
  const where = file ? `config file ${file}: ` : "";
  const result = parseConfig(input as ConfigInput);
  if (!result.ok) throw new ConfigError(`${where}${result.error}`);
  checkProxyPolicies(result.config, where);
  try {
    compilePolicy(result.config);
  } catch (err) {
    throw new ConfigError(`${where}${(err as Error).message}`);
  }
  checkWebhookTargets(result.config, where);
  return result.config;
}

/** CIDR lists and header limits are checked here, where the PROXY code that reads them lives. */
function checkProxyPolicies(config: Config, where: string): void {
  const check = (field: string, policy: Parameters<typeof resolveProxyPolicy>[0]) => {
    try {
      resolveProxyPolicy(policy);
    } catch (err) {
      throw new ConfigError(`${where}${field}.${(err as Error).message.replace(/^proxy /, "")}`);
    }
  };
  check("proxy", config.proxy);
  config.listeners.forEach((l, i) => {
    const policy = listenerProxyPolicy(config, l);
    if (policy) check(`listeners.${i}.proxy`, policy);
  });
}

/** Webhook URLs must not point into private networks unless allowlisted (checked again at delivery). */
function checkWebhookTargets(config: Config, where: string): void {
  let allow: ReturnType<typeof parseCidrList>;
  try {
    allow = parseCidrList(config.webhookAllow);
  } catch (err) {
    throw new ConfigError(`${where}webhookAllow.${(err as Error).message}`);
  }
  config.webhooks.forEach((w, i) => {
    const verdict = checkUrl(w.url, allow);
    if (!verdict.ok)
      throw new ConfigError(`${where}webhooks.${i}.url: ${verdict.reason} (allow it with webhookAllow)`);
  });
}
