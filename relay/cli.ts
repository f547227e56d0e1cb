#!/usr/bin/env node
/**
 * The `mxedge` command. Runs under Node ≥ 22.19 (type stripping) and Deno 2 (`deno run -A relay/cli.ts`).
 *
 *   mxedge serve                      edge + relay in one process, data in ./data
 *   mxedge relay --edge URL           relay only, against a deployed edge
 *   mxedge domain|user|alias|dkim|dns|webhook|messages …   admin commands, through the admin API:
 *                                     in-process on the data directory, or --edge URL (relay/cli/)
 *   mxedge config check
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { listenerTls } from "../src/config.ts";
import { StoreError } from "../src/store/index.ts";
import { adminTransport } from "./cli/admin-transport.ts";
import { ADMIN_NOUNS, ApiError, type CommandOptions, CommandUsageError, runCommand } from "./cli/commands.ts";
import { CLI_OPTIONS } from "./cli/options.ts";
import { ConfigError, type ConfigOverrides, loadConfig, PORT_OPTIONS } from "./config-load.ts";
import { StartupError } from "./edge-startup.ts";
import { createLogger, levelFromEnv } from "./log.ts";

const VERSION = "0.1.0";

export const USAGE = `usage: mxedge <command> [options]

commands:
  serve                         run edge + relay in one process (embedded SQLite in --data)
  serve --handler FILE          also run FILE's email() handler (mxedge/edge; or a Cloudflare Email Worker)
  relay --edge URL | --config F  run only the relay against a deployed edge (secret: MXEDGE_RELAY_SECRET
                                or MXEDGE_RELAY_SECRET_FILE; SIGTERM drains, SIGHUP reloads config + certs)
  domain add|list|show|rm <domain>
  domain set <domain> [--plus-addressing on|off] [--mta-sts enforce|testing|none]
             [--dmarc-policy none|quarantine|reject] [--dmarc-rua mailto:…] [--tls-rpt-rua mailto:…]
  user add|passwd <address> --password-stdin    password read from standard input
  user rm <address> · user list
  user import dovecot-passwd FILE  import a Dovecot passwd-file, keeping the users' passwords
  alias add <address> <target…>  one or more local targets; *@domain is the catch-all;
                                the single target "discard" accepts and drops
  alias rm <address> · alias list [domain] · alias plus-addressing <domain> on|off
  dkim generate <domain> [--selector s] [--algo rsa-2048|ed25519]
  dkim rotate <domain> [--algo …] · dkim list <domain> · dkim rm <domain> <selector>
  dns <domain>                  the DNS records the domain needs, as a zone file
  dns check <domain>            compare live DNS (or --dns-zone FILE) with them; exit 1 when wrong
  webhook add <name> <url> [--format json|raw] [--secret-stdin]
  webhook list · webhook test <name> · webhook redeliver <id>
  deliveries [--state S] · queue  the webhook outbox (S: pending, delivered, failed, dead)
  messages list [--limit N] · messages show <id> · messages raw <id>
  config check                  validate the configuration and print it

options (each also as an environment variable):
  --config FILE    MXEDGE_CONFIG     TOML or JSON config file
  --data DIR       MXEDGE_DATA       data directory (default ./data)
  --hostname NAME  MXEDGE_HOSTNAME   name in greetings and Received headers
  --host ADDR      MXEDGE_HOST       bind address for every listener and the HTTP API
  --http PORT      MXEDGE_HTTP       admin/edge HTTP port (default 8787)
  --smtp PORT      MXEDGE_SMTP       inbound MX listener (default 2525)
  --submission PORT MXEDGE_SUBMISSION  (default 2587)   --submissions PORT MXEDGE_SUBMISSIONS (default 2465)
  --imap PORT      MXEDGE_IMAP (default 2143)            --imaps PORT MXEDGE_IMAPS (default 2993)
  --edge URL       MXEDGE_EDGE_URL   remote edge (relay mode)
  --dns-zone FILE  MXEDGE_DNS_ZONE   answer SPF/DKIM/DMARC lookups from a static zone file
  --json           machine-readable output for admin commands
  admin commands work on the data directory, or on a remote edge with --edge URL and the admin token
  from --token-file FILE, MXEDGE_ADMIN_TOKEN or --token TOKEN
`;

class UsageError extends Error {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: CLI_OPTIONS,
  });
}

type Parsed = ReturnType<typeof parse>;

function overrides(values: Parsed["values"]): ConfigOverrides {
  const ports: ConfigOverrides["ports"] = {};
  for (const name of PORT_OPTIONS) if (values[name] !== undefined) ports[name] = values[name];
  return {
    config: values.config,
    data: values.data,
    hostname: values.hostname,
    host: values.host,
    http: values.http,
    edge: values.edge,
    dnsZone: values["dns-zone"],
    ports,
  };
}

/**
 * Where a command's input and output go: the process's own streams and environment for the `mxedge`
 * binary, or buffers when a test calls main() in its own process. `serve` and `relay` always use the
 * process's streams and signals.
 */
export interface CliIo {
  stdout(chunk: string | Uint8Array): void;
  stderr(text: string): void;
  readStdin(): string;
  env: Record<string, string | undefined>;
}

const processIo: CliIo = {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => {
    try {
      return readFileSync(0, "utf8");
    } catch {
      return "";
    }
  },
  env: process.env,
};

const out = (line: string) => process.stdout.write(`${line}\n`);

async function runServe(parsed: Parsed, relayOnly: boolean): Promise<void> {
  const config = loadConfig(overrides(parsed.values), process.env);
  if (relayOnly && !config.edge.url)
    throw new UsageError(
      "relay mode needs the edge's URL: --edge URL, MXEDGE_EDGE_URL or edge.url in --config",
    );
  const log = createLogger(levelFromEnv(process.env.MXEDGE_LOG));
  const handlerFile = parsed.values.handler ?? process.env.MXEDGE_HANDLER;
  if (relayOnly && handlerFile) {
    throw new UsageError(
      "--handler runs in embedded mode (serve); against a remote edge, the handler is part of the Worker",
    );
  }
  // Loaded here, not at the top: admin commands start faster without the relay's listeners and the pipeline.
  const { serve } = await import("./serve.ts");
  const server = await serve(config, process.env, log, { handlerFile });
  out(
    `mxedge ${VERSION}: ${server.mode === "embedded" ? "edge + relay in one process" : `relay for ${config.edge.url}`}`,
  );
  if (server.mode === "embedded") out(`  data         ${server.dataDir}  (SQLite: mxedge.db)`);
  for (const l of server.listeners) {
    const cfg = config.listeners.find((c) => c.name === l.name);
    const tls = cfg ? listenerTls(cfg) : "";
    out(
      `  ${l.name.padEnd(12)} ${cfg?.host}:${l.port}  (${cfg?.role}, ${tls === "implicit" ? "implicit TLS" : tls === "proxy" ? "TLS at proxy" : "STARTTLS"})`,
    );
  }
  if (server.edgeAtStart) out(`  edge         ${config.edge.url}  (${server.edgeAtStart})`);
  if (server.acmeHttpPort !== null)
    out(
      `  acme         http://${config.tls.acme?.http.host}:${server.acmeHttpPort}  (HTTP-01 challenges only)`,
    );
  if (server.http && server.mode === "relay")
    out(`  admin        http://${config.http.host}:${server.http.port}  (/healthz, /readyz, /metrics)`);
  if (server.http && server.mode === "embedded") {
    out(`  http         http://${config.http.host}:${server.http.port}  (admin API and relay API)`);
    out(`  admin token  ${server.adminToken}  (also in ${server.dataDir}/secrets.json)`);
    out("next:");
    out(`  mxedge domain add example.com --data ${server.dataDir}`);
    out(
      `  printf '%s' 'a long password' | mxedge user add you@example.com --password-stdin --data ${server.dataDir}`,
    );
    out(
      `  curl -H "Authorization: Bearer ${server.adminToken}" http://${config.http.host}:${server.http.port}/api/messages`,
    );
  }
  out("ready");
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("server.stopping", { signal });
    await server
      .drain()
      .catch((err: unknown) => log.error("server.drain-failed", { reason: (err as Error).message }));
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // SIGHUP: read the config again; an invalid one is refused and the running one stays.
  process.on("SIGHUP", () => {
    if (stopping) return;
    let next: ReturnType<typeof loadConfig>;
    try {
      next = loadConfig(overrides(parsed.values), process.env);
    } catch (err) {
      log.error("config.reload-refused", { reason: (err as Error).message, keeping: "the running config" });
      return;
    }
    server
      .reload(next)
      .catch((err: unknown) =>
        log.error("config.reload-refused", { reason: (err as Error).message, keeping: "the running config" }),
      );
  });
}

async function runAdmin(parsed: Parsed, io: CliIo): Promise<number> {
  const config = loadConfig(overrides(parsed.values), io.env);
  const opts: CommandOptions = {
    json: parsed.values.json,
    values: parsed.values,
    readStdin: io.readStdin,
    readFile: (path) => {
      try {
        return readFileSync(path, "utf8");
      } catch (err) {
        throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
      }
    },
  };
  const admin = await adminTransport(config, parsed.values, io.env);
  try {
    const result = await runCommand(admin.transport, parsed.positionals, opts);
    io.stdout(result.stdout);
    for (const line of result.stderr ?? []) io.stderr(`mxedge: ${line}\n`);
    return result.code;
  } finally {
    admin.close();
  }
}

/** Runs one `mxedge` command line and returns its exit status (the binary exits with it). */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr(`mxedge: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.version) {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || !command || command === "help") {
    io.stdout(`${USAGE}\n`);
    return command || parsed.values.help ? 0 : 2;
  }
  try {
    if (command === "serve") await runServe(parsed, false);
    else if (command === "relay") await runServe(parsed, true);
    else if (command === "config" && parsed.positionals[1] === "check") {
      io.stdout(`${JSON.stringify(loadConfig(overrides(parsed.values), io.env), null, 2)}\n`);
    } else if (ADMIN_NOUNS.includes(command)) return await runAdmin(parsed, io);
    else throw new UsageError(`unknown command: ${command}`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`mxedge: config error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      for (const line of err.lines) io.stderr(`mxedge: ${line}\n`);
      return 1;
    }
    if (err instanceof UsageError || err instanceof CommandUsageError) {
      io.stderr(`mxedge: ${err.message}\n`);
      return 2;
    }
    if (err instanceof StartupError) {
      io.stderr(`mxedge: cannot start: ${err.message}\n`);
      return 1;
    }
    if (err instanceof StoreError) {
      io.stderr(`mxedge: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE" || e.code === "EACCES") {
      io.stderr(`mxedge: cannot listen: ${e.message}\n`);
      return 1;
    }
    io.stderr(`mxedge: ${e.message}\n`);
    return 1;
  }
}

// Only as the program itself (tests import main). No top-level await: the single-executable build
// (relay/build-binary.ts) bundles this file as CommonJS, with import.meta.main defined as true.
if (import.meta.main)
  void main(process.argv.slice(2)).then((code) => {
    if (code !== 0) process.exit(code);
  });
