/**
 * The one mxedge configuration, validated with zod. Sources, weakest first:
 * built-in defaults < config file (TOML or JSON) < MXEDGE_* environment < command-line flags.
 */
import { z } from "zod";
import { DnsblSchema, RuleSchema } from "./rules/schema.ts";
import { WebhookConfigSchema } from "./webhooks/config.ts";

const port = z.number().int().min(0).max(65535);

export const ProxyPolicySchema = z.strictObject({
  /** CIDRs of the proxies allowed to send a PROXY header; a peer in this list must send one. */
  trusted: z.array(z.string().min(1)).default([]),
  /** A trusted peer must send its whole header within this, else the connection is closed without a banner. */
  timeoutMs: z.number().int().min(100).max(60_000).default(3000),
  /** Largest PROXY v2 header accepted (with its TLVs); larger closes the connection. */
  maxHeaderBytes: z.number().int().min(16).max(65_535).default(4096),
  /** Serve peers outside `trusted` as direct connections (a PROXY header from them is then an error). */
  allowDirect: z.boolean().default(false),
});
export type ProxyPolicy = z.infer<typeof ProxyPolicySchema>;

export const ListenerRoles = ["mx", "submission", "submissions", "imap", "imaps"] as const;
export type ListenerRole = (typeof ListenerRoles)[number];

export const ListenerSchema = z.strictObject({
  /** Names the listener in logs and metrics; the port flags (--smtp, --imaps, …) set the listener of that name. */
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, "must be lower-case letters, digits and dashes"),
  /** mx: inbound port 25, no AUTH · submission: 587, STARTTLS then AUTH · submissions: 465 · imap: 143 · imaps: 993. */
  role: z.enum(ListenerRoles),
  /** Bind address (`::` for IPv6 too). */
  host: z.string().min(1).default("0.0.0.0"),
  /** The TCP port; 0 picks a free one (tests). */
  port,
  /**
   * "starttls": plain, upgraded by STARTTLS · "implicit": TLS from the first byte (465/993)
   * "proxy": the proxy in front terminated TLS (trusted only via the PROXY v2 SSL TLV or assumeTls).
   * Defaults follow the role: implicit for submissions/imaps, starttls otherwise.
   */
  tls: z.enum(["starttls", "implicit", "proxy"]).optional(),
  /** With `tls = "proxy"`: count every session as TLS even when the PROXY header carries no SSL TLV. */
  assumeTls: z.boolean().default(false),
  /** PROXY protocol on this listener: `true` uses the global policy, an object overrides it. */
  proxy: z.union([z.boolean(), ProxyPolicySchema.partial()]).default(false),
});
export type ListenerConfig = z.infer<typeof ListenerSchema>;

export const AcmeSchema = z.strictObject({
  /** The CA's directory; Let's Encrypt staging is https://acme-staging-v02.api.letsencrypt.org/directory. */
  directoryUrl: z.url().default("https://acme-v02.api.letsencrypt.org/directory"),
  /** Names on the certificate; the first is its common name. */
  domains: z.array(z.string().min(1).max(253)).min(1),
  /** The ACME account's contact address (expiry notices). */
  email: z.string().min(3).optional(),
  /** http-01: the CA fetches a token from port 80 of each name · dns-01: a TXT record through the Cloudflare API. */
  challenge: z.enum(["http-01", "dns-01"]).default("http-01"),
  /** HTTP-01: the relay answers /.well-known/acme-challenge/ (and nothing else) on this port. */
  http: z
    .strictObject({
      /** Where the HTTP-01 responder listens. */
      host: z.string().min(1).default("0.0.0.0"),
      /** The CA always connects to port 80; another port needs a forward from 80. */
      port: port.default(80),
    })
    .prefault({}),
  /** DNS-01 through the Cloudflare API; the token comes from MXEDGE_CLOUDFLARE_TOKEN or `tokenFile`. */
  cloudflare: z
    .strictObject({
      /** Cloudflare's API base (tests point it at a local stand-in). */
      apiUrl: z.url().default("https://api.cloudflare.com/client/v4"),
      /** A file holding the API token (Zone:DNS:Edit), e.g. a systemd credential. */
      tokenFile: z.string().min(1).optional(),
      /** Skips the zone lookup (the token then needs only DNS:Edit on that zone). */
      zoneId: z.string().min(1).optional(),
      /** Wait after creating the TXT record before asking the CA to look. */
      propagationMs: z.number().int().min(0).max(600_000).default(10_000),
    })
    .prefault({}),
  /** PEM file of extra CAs to trust for the ACME directory's own HTTPS (a private or test CA). */
  caFile: z.string().min(1).optional(),
  /** Check the challenge from here before asking the CA (as acme-client does by default). */
  selfCheck: z.boolean().default(true),
  /** Renew when the certificate expires within this many days. */
  renewBeforeDays: z.number().min(1).max(89).default(30),
  /** How often the certificate's expiry is checked. */
  checkIntervalMs: z
    .number()
    .int()
    .min(100)
    .max(86_400_000)
    .default(12 * 3600_000),
  /** First retry after a failed order; doubles per failure up to `retryMaxMs`, each with ±50% jitter. */
  retryBaseMs: z
    .number()
    .int()
    .min(10)
    .max(86_400_000)
    .default(5 * 60_000),
  /** The longest wait between two failed orders. */
  retryMaxMs: z
    .number()
    .int()
    .min(10)
    .max(7 * 86_400_000)
    .default(12 * 3600_000),
});
export type AcmeConfig = z.infer<typeof AcmeSchema>;

export const ConfigSchema = z.strictObject({
  /** The name in greetings and Received headers. */
  hostname: z.string().min(1).max(253).default("localhost"),
  /** Where the embedded SQLite database, secrets and generated certificates live. */
  dataDir: z.string().min(1).default("./data"),
  http: z
    /** The HTTP port: admin API, relay API, /metrics, /healthz, /readyz. Keep it on loopback or behind a proxy. */
    .strictObject({
      /** Bind address; anything but loopback exposes the admin API to that network. */
      host: z.string().min(1).default("127.0.0.1"),
      /** The port (`--http`); the banner of `mxedge serve` prints it. */
      port: port.default(8787),
    })
    .prefault({}),
  listeners: z
    .array(ListenerSchema)
    .default([
      { name: "smtp", role: "mx", host: "0.0.0.0", port: 2525, assumeTls: false, proxy: false },
      { name: "submission", role: "submission", host: "0.0.0.0", port: 2587, assumeTls: false, proxy: false },
      {
        name: "submissions",
        role: "submissions",
        host: "0.0.0.0",
        port: 2465,
        assumeTls: false,
        proxy: false,
      },
      { name: "imap", role: "imap", host: "0.0.0.0", port: 2143, assumeTls: false, proxy: false },
      { name: "imaps", role: "imaps", host: "0.0.0.0", port: 2993, assumeTls: false, proxy: false },
    ])
    .refine((ls) => new Set(ls.map((l) => l.name)).size === ls.length, "listener names must be unique"),
  /** The global PROXY policy that listeners with `proxy = true` use. */
  proxy: ProxyPolicySchema.prefault({}),
  tls: z
    .strictObject({
      /** PEM files; when both are absent a self-signed certificate is generated in the data directory. */
      cert: z.string().min(1).optional(),
      /** The private key of `cert` (PEM); give both or neither. */
      key: z.string().min(1).optional(),
      /** More PEM pairs, chosen by the client's SNI name; the first pair above (or ACME's) is the default. */
      certificates: z
        .array(
          z.strictObject({
            /** A certificate chain (PEM). */
            cert: z.string().min(1),
            /** Its private key (PEM). */
            key: z.string().min(1),
          }),
        )
        .default([]),
      /** How often the certificate files are checked for changes (replaced files are served without a restart). */
      watchMs: z.number().int().min(100).max(3_600_000).default(5000),
      /** Certificates from an ACME CA (Let's Encrypt), kept in <dataDir>/acme: see relay/acme/. */
      acme: AcmeSchema.optional(),
    })
    .refine((t) => (t.cert === undefined) === (t.key === undefined), "cert and key must be given together")
    .prefault({}),
  limits: z
    .strictObject({
      /** Largest message, advertised with SIZE; more gets 552 5.3.4 and nothing is stored. */
      maxMessageBytes: z
        .number()
        .int()
        .min(1024)
        .max(512 * 1024 * 1024)
        .default(25 * 1024 * 1024),
      /** RCPT TO commands per transaction; more get 452 4.5.3. */
      maxRecipients: z.number().int().min(1).max(10_000).default(1000),
      /** IMAP QUOTA (RFC 9208): storage per user in bytes unless the user has its own; null = unlimited. */
      quotaBytes: z.number().int().min(0).nullable().default(null),
      /** Bare CR or LF in DATA: refuse the message (Postfix smtpd_forbid_bare_newline) or turn it into CRLF. */
      bareNewlines: z.enum(["reject", "normalize"]).default("reject"),
      /** Longest SMTP command line in bytes (RFC 5321: 512; Postfix line_length_limit: 2048); longer gets 421. */
      maxCommandLineBytes: z.number().int().min(512).max(65_536).default(2048),
      /**
       * Longest line inside DATA in bytes, CRLF included (RFC 5321: 1000; Postfix accepts any length).
       * Longer gets 554 5.6.0 and nothing is stored; 0 turns the check off. See relay/smtp/line-length.ts.
       */
      maxDataLineBytes: z
        .number()
        .int()
        .refine((n) => n === 0 || (n >= 1000 && n <= 64 * 1024 * 1024), "0, or 1000 to 67108864")
        .default(65_536),
      /** Idle time allowed while a command is expected (Postfix smtpd_timeout: 300 s), then 421. */
      commandTimeoutMs: z.number().int().min(100).max(3_600_000).default(300_000),
      /** Idle time allowed inside DATA, between two chunks of the message, then 421. */
      dataTimeoutMs: z.number().int().min(100).max(3_600_000).default(300_000),
      /** Open SMTP connections, all SMTP listeners together (Postfix default_process_limit: 100). */
      maxConnections: z.number().int().min(1).max(1_000_000).default(1000),
      /** Open SMTP connections per client IP, all SMTP listeners together (Postfix smtpd_client_connection_count_limit: 50). */
      maxConnectionsPerIp: z.number().int().min(1).max(1_000_000).default(50),
      /** Open IMAP connections, all IMAP listeners together, logged in or not (Dovecot's login process limits). */
      imapMaxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
      /** Open IMAP connections per client IP, all IMAP listeners together; more get `* BYE` (NAT: raise it). */
      imapMaxConnectionsPerIp: z.number().int().min(1).max(1_000_000).default(200),
      /** 4xx/5xx replies in one session before it is closed with 421 (Postfix smtpd_hard_error_limit: 20). */
      maxErrors: z.number().int().min(1).max(1000).default(20),
      /** Delay before answering a failed AUTH, multiplied by the client IP's recent failures (capped at 10×). */
      authFailureDelayMs: z.number().int().min(0).max(60_000).default(1000),
      /** Failed AUTH attempts per client IP within `authFailureWindowMs` before 421 (then per attempt). */
      maxAuthFailures: z.number().int().min(1).max(10_000).default(10),
      /** The window in which `maxAuthFailures` and the AUTH failure delay count failures. */
      authFailureWindowMs: z.number().int().min(1000).max(86_400_000).default(600_000),
      /** Messages per client IP per minute; 0 = no limit (Postfix smtpd_client_message_rate_limit: 0). */
      messagesPerMinutePerIp: z.number().int().min(0).max(1_000_000).default(0),
    })
    .prefault({}),
  edge: z
    .strictObject({
      /** Remote mode: the deployed edge's base URL. Absent: the edge runs in this process. */
      url: z.url().optional(),
      /** How long the relay waits for the edge to confirm a message is stored. */
      timeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
      /** Remote mode: a file holding the relay secret (else MXEDGE_RELAY_SECRET / MXEDGE_RELAY_SECRET_FILE). */
      secretFile: z.string().min(1).optional(),
      /** How often the relay asks the edge whether it is up (for /readyz and `whenDown`). */
      healthIntervalMs: z.number().int().min(100).max(600_000).default(10_000),
      /** While the edge is down: "451" answers each transaction 451 4.3.0; "421" refuses at connect. */
      whenDown: z.enum(["451", "421"]).default("451"),
    })
    .prefault({}),
  /** SIGTERM: in-flight SMTP transactions get this long to finish before their connections are closed. */
  shutdownGraceMs: z.number().int().min(0).max(600_000).default(30_000),
  /** Where SPF/DKIM/DMARC/ARC lookups go. */
  dns: z
    .strictObject({
      /** system: node:dns (resolv.conf or `servers`) · doh: DNS-over-HTTPS · zone: a static zone file. */
      mode: z.enum(["system", "doh", "zone"]).default("system"),
      /** mode = system: these resolvers (IP or IP:port) instead of /etc/resolv.conf. */
      servers: z.array(z.string().min(1)).optional(),
      /** mode = doh: the DNS-over-HTTPS endpoint. */
      dohUrl: z.url().default("https://cloudflare-dns.com/dns-query"),
      /** mode = doh: JSON (application/dns-json) or RFC 8484 wire format. */
      dohFormat: z.enum(["json", "wire"]).default("json"),
      /** mode = zone: a BIND-like zone file (`--dns-zone FILE` sets this and the mode). */
      zoneFile: z.string().min(1).optional(),
      /** One lookup, then it counts as a temporary DNS error. */
      timeoutMs: z.number().int().min(100).max(30_000).default(5000),
      /** How long answers (and definite negatives, never failures) are cached. */
      cacheTtlMs: z.number().int().min(0).max(3_600_000).default(60_000),
    })
    .refine((d) => d.mode !== "zone" || d.zoneFile !== undefined, "mode = zone needs zoneFile")
    .prefault({}),
  auth: z
    .strictObject({
      /** Run SPF/DKIM/DMARC/ARC on every inbound message. */
      enabled: z.boolean().default(true),
      /** A temporary DNS failure during the checks: answer 451 (the sender retries) or accept and record it. */
      onTempError: z.enum(["tempfail", "accept"]).default("accept"),
      /** Act on DMARC p=reject (550 5.7.1) and p=quarantine (deliver to Junk). */
      enforceDmarc: z.boolean().default(true),
    })
    .prefault({}),
  /** DNSBL/RHSBL zones; a listing refuses the sender at RCPT time (554 5.7.1) unless a rule decides. */
  dnsbl: z.array(DnsblSchema).default([]),
  /** Rules, in order: see src/rules/schema.ts and docs/rules.md. */
  rules: z.array(RuleSchema).default([]),
  /** Webhook endpoints (also manageable through the admin API); applied at every start. */
  webhooks: z.array(WebhookConfigSchema).default([]),
  /** CIDRs webhook targets may be in despite being loopback/private (e.g. ["127.0.0.0/8"] for a local app). */
  webhookAllow: z.array(z.string().min(1)).default([]),
  /** The edge's public base URL, for the signed download links in webhook payloads. */
  publicUrl: z.url().optional(),
  /** The webhook outbox's retry schedule (defaults: 10 attempts, backoff from 6 minutes up to 6 hours). */
  webhookRetry: z
    .strictObject({
      /** Attempts of one delivery before it is dead. */
      maxAttempts: z.number().int().min(1).max(100).default(10),
      /** The wait after the first failure; it doubles per failure, each drawn between half and all of it. */
      baseDelayMs: z
        .number()
        .int()
        .min(10)
        .max(86_400_000)
        .default(6 * 60_000),
      /** The longest wait between two attempts. */
      maxDelayMs: z
        .number()
        .int()
        .min(10)
        .max(7 * 86_400_000)
        .default(6 * 3600_000),
    })
    .prefault({}),
});
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export function listenerTls(l: ListenerConfig): "starttls" | "implicit" | "proxy" {
  return l.tls ?? (l.role === "submissions" || l.role === "imaps" ? "implicit" : "starttls");
}

/** One line naming the field and the problem, e.g. `listeners.0.port: Too big: expected number to be <=65535`. */
export function describeConfigError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid configuration";
  const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
  return `${path}: ${issue.message}`;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; error: string };

export function parseConfig(input: unknown): ConfigResult {
  const result = ConfigSchema.safeParse(input);
  return result.success
    ? { ok: true, config: result.data }
    : { ok: false, error: describeConfigError(result.error) };
}

/** The PROXY policy a listener runs with: null when the listener does not take PROXY headers. */
export function listenerProxyPolicy(config: Config, l: ListenerConfig): ProxyPolicy | null {
  if (l.proxy === false) return null;
  if (l.proxy === true) return config.proxy;
  return { ...config.proxy, ...l.proxy };
}
