/**
 * Every flag the `mxedge` command accepts and every environment variable the process reads, in one
 * table: relay/cli.ts parses with it, and the docs' CLI reference is generated from it
 * (docs/.vitepress/gen/cli-reference.ts), so neither can drift from the code.
 */

export type OptionScope = "config" | "serve" | "admin" | "any";

export interface CliOption {
  type: "string" | "boolean";
  short?: string;
  default?: boolean;
  /** The value's placeholder in help text (FILE, PORT, …); absent for boolean flags. */
  arg?: string;
  /** The environment variable that sets the same thing (a flag wins over it). */
  env?: string;
  /** The configuration field(s) the flag overrides; their defaults are read from the config schema. */
  field?: string | readonly string[];
  /** config: every command that reads the configuration; serve: serve/relay; admin: admin commands. */
  scope: OptionScope;
  help: string;
}

export const CLI_OPTIONS = {
  config: {
    type: "string",
    arg: "FILE",
    env: "MXEDGE_CONFIG",
    scope: "config",
    help: "TOML or JSON config file",
  },
  data: {
    type: "string",
    arg: "DIR",
    env: "MXEDGE_DATA",
    field: "dataDir",
    scope: "config",
    help: "data directory: SQLite database, secrets, generated certificate",
  },
  hostname: {
    type: "string",
    arg: "NAME",
    env: "MXEDGE_HOSTNAME",
    field: "hostname",
    scope: "config",
    help: "name in greetings and Received headers; the MX host in DNS records",
  },
  host: {
    type: "string",
    arg: "ADDR",
    env: "MXEDGE_HOST",
    field: ["listeners.smtp.host", "http.host"],
    scope: "config",
    help: "bind address for every listener and the HTTP API",
  },
  http: {
    type: "string",
    arg: "PORT",
    env: "MXEDGE_HTTP",
    field: "http.port",
    scope: "config",
    help: "admin API and relay API (relay mode: /healthz, /readyz, /metrics)",
  },
  smtp: {
    type: "string",
    arg: "PORT",
    env: "MXEDGE_SMTP",
    field: "listeners.smtp.port",
    scope: "config",
    help: "the listener named smtp: inbound MX (port-25 role), STARTTLS, no AUTH",
  },
  submission: {
    type: "string",
    arg: "PORT",
    env: "MXEDGE_SUBMISSION",
    field: "listeners.submission.port",
    scope: "config",
    help: "the listener named submission: STARTTLS, then AUTH required",
  },
  submissions: {
    type: "string",
    arg: "PORT",
    env: "MXEDGE_SUBMISSIONS",
    field: "listeners.submissions.port",
    scope: "config",
    help: "the listener named submissions: implicit TLS, AUTH required",
  },
  imap: {
    type: "string",
    arg: "PORT",
    env: "MXEDGE_IMAP",
    field: "listeners.imap.port",
    scope: "config",
    help: "the listener named imap: STARTTLS, LOGIN only after TLS",
  },
  imaps: {
    type: "string",
    arg: "PORT",
    env: "MXEDGE_IMAPS",
    field: "listeners.imaps.port",
    scope: "config",
    help: "the listener named imaps: implicit TLS",
  },
  edge: {
    type: "string",
    arg: "URL",
    env: "MXEDGE_EDGE_URL",
    field: "edge.url",
    scope: "config",
    help: "the deployed edge: relay mode for serve/relay, the remote admin API for admin commands",
  },
  "dns-zone": {
    type: "string",
    arg: "FILE",
    env: "MXEDGE_DNS_ZONE",
    field: "dns.zoneFile",
    scope: "config",
    help: "answer SPF/DKIM/DMARC/DNSBL lookups (and dns check) from a static zone file, offline",
  },
  handler: {
    type: "string",
    arg: "FILE",
    env: "MXEDGE_HANDLER",
    scope: "serve",
    help: "serve: load FILE's email() handler, rules and routes (mxedge/edge, or a Cloudflare Email Worker)",
  },
  json: { type: "boolean", default: false, scope: "admin", help: "machine-readable output (the API's JSON)" },
  "password-stdin": {
    type: "boolean",
    default: false,
    scope: "admin",
    help: "user add|passwd: read the password from standard input",
  },
  state: {
    type: "string",
    arg: "S",
    scope: "admin",
    help: "deliveries: pending, delivered, failed or dead",
  },
  token: {
    type: "string",
    arg: "TOKEN",
    scope: "admin",
    help: "admin token for --edge (visible in ps: prefer --token-file or MXEDGE_ADMIN_TOKEN)",
  },
  "token-file": {
    type: "string",
    arg: "FILE",
    scope: "admin",
    help: "file holding the admin token for --edge",
  },
  selector: {
    type: "string",
    arg: "S",
    scope: "admin",
    help: "dkim generate: the selector (default: mYYYYMM)",
  },
  algo: { type: "string", arg: "ALGO", scope: "admin", help: "dkim generate|rotate: rsa-2048 or ed25519" },
  format: { type: "string", arg: "F", scope: "admin", help: "webhook add: json or raw" },
  limit: { type: "string", arg: "N", scope: "admin", help: "messages list: how many, newest first" },
  "plus-addressing": { type: "string", arg: "on|off", scope: "admin", help: "domain set: user+tag@domain" },
  "mta-sts": { type: "string", arg: "MODE", scope: "admin", help: "domain set: enforce, testing or none" },
  "dmarc-policy": {
    type: "string",
    arg: "P",
    scope: "admin",
    help: "domain set: none, quarantine or reject (the published _dmarc record)",
  },
  "dmarc-rua": {
    type: "string",
    arg: "URI",
    scope: "admin",
    help: "domain set: DMARC aggregate report address",
  },
  "tls-rpt-rua": { type: "string", arg: "URI", scope: "admin", help: "domain set: TLS-RPT report address" },
  "secret-stdin": {
    type: "boolean",
    default: false,
    scope: "admin",
    help: "webhook add: read the whsec_ secret from standard input",
  },
  help: { type: "boolean", short: "h", default: false, scope: "any", help: "print the usage" },
  version: { type: "boolean", short: "v", default: false, scope: "any", help: "print the version" },
} as const satisfies Record<string, CliOption>;

export interface EnvVariable {
  /** Who reads it: the mxedge process (serve, relay, admin commands) or the edge library too. */
  readBy: string;
  help: string;
}

/** Environment variables that are not a flag's twin (those are in CLI_OPTIONS' `env`). */
export const ENVIRONMENT: Record<string, EnvVariable> = {
  MXEDGE_ADMIN_TOKEN: {
    readBy: "serve, admin commands",
    help: "serve: the admin API's bearer token instead of the one generated into <data>/secrets.json; admin commands with --edge: the token they send",
  },
  MXEDGE_RELAY_SECRET: {
    readBy: "serve, relay",
    help: "the relay↔edge shared secret (embedded: instead of the generated one; relay mode: required, or one of the two below)",
  },
  MXEDGE_RELAY_SECRET_FILE: {
    readBy: "relay",
    help: "a file holding the relay secret (also edge.secretFile, or systemd's credential relay-secret)",
  },
  CREDENTIALS_DIRECTORY: {
    readBy: "relay",
    help: "set by systemd (LoadCredential=): the relay secret is read from its file relay-secret",
  },
  MXEDGE_LOG: {
    readBy: "serve, relay",
    help: "log level of the JSON lines on stdout: silent, error, info (default) or debug",
  },
  MXEDGE_DKIM_KEY: {
    readBy: "serve, admin commands",
    help: "secret that encrypts DKIM private keys at rest; else <data>/dkim.key, made with mode 0600 on first use",
  },
  MXEDGE_CLOUDFLARE_TOKEN: {
    readBy: "serve, relay",
    help: "ACME dns-01 through Cloudflare: an API token with Zone:DNS:Edit (or tls.acme.cloudflare.tokenFile)",
  },
  MXEDGE_HANDLER_TIMEOUT_MS: {
    readBy: "serve --handler, mxedge/edge",
    help: "the email() handler's time budget per message in milliseconds (default 25000), unless the handler sets handlerTimeoutMs",
  },
  MXEDGE_EDGE_THREAD: {
    readBy: "serve",
    help: "1: message ingest (parse, authenticate, rules, store) runs on a worker thread, using a second core at the cost of RSS",
  },
  MXEDGE_IMAP_IDLE_POLL_MS: {
    readBy: "serve, relay",
    help: "how often an IDLE session polls the store for changes (default 1000 embedded, 10000 against a remote edge)",
  },
  MXEDGE_IMAP_CACHE_BYTES: {
    readBy: "serve, relay",
    help: "size of the relay's LRU cache of message bodies for IMAP FETCH (default 64 MiB)",
  },
};
