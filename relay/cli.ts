#!/usr/bin/env node
/**
 * The `mxedge` command. Runs under Node ≥ 22.19 (type stripping) and Deno 2 (`deno run -A relay/cli.ts`).
 *
 *   mxedge serve                      edge + relay in one process, data in ./data
 *   mxedge relay --edge URL           relay only, against a deployed edge
 *   mxedge domain add|list            against the embedded data directory
 *   mxedge user add|list
 *   mxedge config check
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { openEmbeddedStore } from "../edge/embedded.ts";
import { listenerTls } from "../src/config.ts";
import { StoreError } from "../src/store/index.ts";
import { ConfigError, type ConfigOverrides, loadConfig, PORT_OPTIONS } from "./config-load.ts";
import { createLogger, levelFromEnv } from "./log.ts";
import { serve } from "./serve.ts";

const VERSION = "0.1.0";

const USAGE = `usage: mxedge <command> [options]

commands:
  serve                         run edge + relay in one process (embedded SQLite in --data)
  relay --edge URL              run only the relay against a deployed edge (MXEDGE_RELAY_SECRET)
  serve --handler FILE          also run FILE's email() handler (mxedge/edge; or a Cloudflare Email Worker)
  domain add <domain>           add a domain
  domain list                   list domains
  user add <address> --password-stdin
                                add a user (its domain must exist); password read from stdin
  user list                     list users
  alias add <address> <target…> add an alias (one or more local targets; *@domain is the catch-all;
                                the single target "discard" accepts and drops)
  webhook list                  list webhook endpoints
  deliveries [--state S]        the webhook outbox (S: pending, delivered, failed, dead)
  webhook redeliver <id>        queue a delivery again
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
`;

class UsageError extends Error {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      data: { type: "string" },
      hostname: { type: "string" },
      host: { type: "string" },
      http: { type: "string" },
      edge: { type: "string" },
      "dns-zone": { type: "string" },
      handler: { type: "string" },
      smtp: { type: "string" },
      submission: { type: "string" },
      submissions: { type: "string" },
      imap: { type: "string" },
      imaps: { type: "string" },
      json: { type: "boolean", default: false },
      "password-stdin": { type: "boolean", default: false },
      state: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
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

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return "";
  }
}

const out = (line: string) => process.stdout.write(`${line}\n`);

async function runServe(parsed: Parsed, relayOnly: boolean): Promise<void> {
  const config = loadConfig(overrides(parsed.values), process.env);
  if (relayOnly && !config.edge.url) throw new UsageError("relay mode needs --edge URL (or MXEDGE_EDGE_URL)");
  const log = createLogger(levelFromEnv(process.env.MXEDGE_LOG));
  const handlerFile = parsed.values.handler ?? process.env.MXEDGE_HANDLER;
  if (relayOnly && handlerFile) {
    throw new UsageError(
      "--handler runs in embedded mode (serve); against a remote edge, the handler is part of the Worker",
    );
  }
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
  if (server.http) {
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
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

async function runAdmin(parsed: Parsed): Promise<void> {
  const [noun, verb, arg] = parsed.positionals;
  const config = loadConfig(overrides(parsed.values), process.env);
  const json = parsed.values.json;
  const opened = await openEmbeddedStore(config.dataDir);
  try {
    const { directory } = opened.store;
    if (noun === "domain" && verb === "add" && arg) {
      const d = await directory.addDomain(arg);
      out(json ? JSON.stringify(d) : `added domain ${d.name}`);
    } else if (noun === "domain" && verb === "list") {
      const list = await directory.listDomains();
      out(json ? JSON.stringify(list) : list.map((d) => d.name).join("\n") || "(no domains)");
    } else if (noun === "user" && verb === "add" && arg) {
      if (!parsed.values["password-stdin"])
        throw new UsageError("user add needs --password-stdin (the password is read from standard input)");
      const password = readStdin().replace(/\r?\n$/, "");
      const u = await directory.addUser(arg, password);
      out(json ? JSON.stringify(u) : `added user ${u.login} with mailboxes INBOX, Drafts, Sent, Junk, Trash`);
    } else if (noun === "user" && verb === "list") {
      const list = await directory.listUsers();
      out(
        json
          ? JSON.stringify(list)
          : list.map((u) => `${u.login}${u.disabled ? " (disabled)" : ""}`).join("\n") || "(no users)",
      );
    } else if (noun === "alias" && verb === "add" && arg) {
      const targets = parsed.positionals.slice(3);
      if (targets.length === 0)
        throw new UsageError("alias add <address> <target…> (or: alias add <address> discard)");
      const a = await directory.addAlias(
        arg,
        targets.length === 1 && targets[0] === "discard" ? "discard" : targets,
      );
      out(json ? JSON.stringify(a) : `added alias ${a.address} → ${targets.join(", ")}`);
    } else if (noun === "webhook" && verb === "list") {
      const list = (await opened.store.webhooks.listEndpoints()).map(({ secret: _s, ...e }) => e);
      out(
        json
          ? JSON.stringify(list)
          : list
              .map((e) => `${e.name}\t${e.enabled ? "enabled" : "disabled"}\t${e.format}\t${e.url}`)
              .join("\n") || "(no webhooks)",
      );
    } else if (noun === "deliveries" || (noun === "webhook" && verb === "deliveries")) {
      const state = parsed.values.state as "pending" | "delivered" | "failed" | "dead" | undefined;
      const list = await opened.store.webhooks.listDeliveries({ state });
      out(
        json
          ? JSON.stringify(list)
          : list
              .map(
                (d) =>
                  `${d.id}\t${d.endpoint}\t${d.state}\tattempts=${d.attempts}\tlast=${d.lastStatus ?? d.lastError ?? "-"}\tmessage=${d.messageId}`,
              )
              .join("\n") || "(no deliveries)",
      );
    } else if (noun === "webhook" && verb === "redeliver" && arg) {
      await opened.store.webhooks.redeliver(arg, Date.now());
      out(json ? JSON.stringify({ queued: arg }) : `queued ${arg} for delivery`);
    } else {
      throw new UsageError(`unknown command: ${parsed.positionals.join(" ")}`);
    }
  } finally {
    opened.close();
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`mxedge: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.version) {
    out(VERSION);
    return 0;
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || !command || command === "help") {
    out(USAGE);
    return command || parsed.values.help ? 0 : 2;
  }
  try {
    if (command === "serve") await runServe(parsed, false);
    else if (command === "relay") await runServe(parsed, true);
    else if (command === "config" && parsed.positionals[1] === "check") {
      out(JSON.stringify(loadConfig(overrides(parsed.values), process.env), null, 2));
    } else if (["domain", "user", "alias", "webhook", "deliveries"].includes(command)) await runAdmin(parsed);
    else throw new UsageError(`unknown command: ${command}`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mxedge: config error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`mxedge: ${err.message}\n`);
      return 2;
    }
    if (err instanceof StoreError) {
      process.stderr.write(`mxedge: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE" || e.code === "EACCES") {
      process.stderr.write(`mxedge: cannot listen: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`mxedge: ${e.message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
