/**
 * `mxedge serve`: the relay's listeners, plus (embedded mode) the edge in this process on a SQLite file
 * and its HTTP API. With `edge.url` set it runs as a relay only and reaches the edge over HTTPS.
 *
 * Lifecycle: drain() (SIGTERM) stops accepting, lets SMTP transactions finish within the grace period,
 * says BYE to IMAP sessions; reload() (SIGHUP) applies a new, already validated config to the listeners
 * and certificates while open sessions continue on the old settings.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type EdgeThread, startEdgeThread } from "../edge/edge-thread-host.ts";
import { embeddedEdgeOptions, openEmbeddedEdge } from "../edge/embedded.ts";
import type { ImapStoreApi } from "../edge/imap-api.ts";
import { type LoadedHandler, loadHandler } from "../edge/library/handler-module.ts";
import type { RelayApi } from "../edge/relay-api.ts";
import { type Config, type ListenerConfig, listenerProxyPolicy, listenerTls } from "../src/config.ts";
import { compilePolicy } from "../src/rules/index.ts";
import { DnsblSchema, RuleSchema } from "../src/rules/schema.ts";
import { AcmeManager } from "./acme/manager.ts";
import { adminEdgeOptions } from "./admin-options.ts";
import { watchCertFiles } from "./certs/files.ts";
import { CertStore, makeEntry } from "./certs/store.ts";
import { EdgeClient, type EdgeFetch, type RelayEdge } from "./edge-client.ts";
import { LocalRelayEdge } from "./edge-local.ts";
import { EdgeMonitor } from "./edge-monitor.ts";
import { checkEdgeAtStart, EdgeUnreachable, relaySecretFrom } from "./edge-startup.ts";
import { healthResponse } from "./health.ts";
import { streamingFetch } from "./http-fetch.ts";
import { type RunningHttp, serveHttp } from "./http-server.ts";
import { createImapEngine } from "./imap/server.ts";
import { isStoreWrite } from "./imap/watcher.ts";
import { ImapClient } from "./imap-client.ts";
import { LocalImapStore } from "./imap-local.ts";
import { ConnectionLimiter } from "./limits/connections.ts";
import { type ProtocolHandler, type RunningListener, startListener } from "./listener.ts";
import type { Logger } from "./log.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { startOutbox } from "./outbox-timer.ts";
import { renderProxyMetrics } from "./proxy/prometheus.ts";
import { proxyAcceptor } from "./proxy-accept.ts";
import { loadSecrets } from "./secrets.ts";
import type { SmtpEngine } from "./smtp/server.ts";
import { createSmtpEngine } from "./smtp/server.ts";
import { loadCertificate } from "./tls-files.ts";

export interface RunningServer {
  mode: "embedded" | "relay";
  dataDir: string;
  listeners: RunningListener[];
  http: RunningHttp | null;
  adminToken: string | null;
  /** Remote mode: what the start-up check found. */
  edgeAtStart: string | null;
  /** The ACME HTTP-01 port, when that challenge is configured. */
  acmeHttpPort: number | null;
  close(): Promise<void>;
  /** Graceful stop; resolves when every session is gone (or cut at the grace period's end). */
  drain(graceMs?: number): Promise<void>;
  /** Applies a new config (listeners, certificates, limits); throws, changing nothing, if it cannot. */
  reload(next: Config): Promise<void>;
}

interface Handlers {
  all: ProtocolHandler[];
  smtp: SmtpEngine[];
}

export async function serve(
  config: Config,
  env: Record<string, string | undefined>,
  log: Logger,
  extras: { handlerFile?: string } = {},
): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const certs = new CertStore();
  let stopWatching = watchCertFiles(certs, certFilePairs(config), config.tls.watchMs, log);
  const acme = config.tls.acme
    ? new AcmeManager({ config: config.tls.acme, dataDir, store: certs, log, env })
    : null;
  await acme?.start();
  // Until a certificate is configured or issued, STARTTLS and implicit TLS use a self-signed one.
  if (!certs.hasValid()) {
    const selfSigned = await loadCertificate(dataDir, {}, config.hostname);
    certs.set(makeEntry("self-signed", { cert: selfSigned.cert, key: selfSigned.key }));
  }

  let edgeFetch: EdgeFetch;
  let baseUrl: string;
  let relaySecret: string;
  let http: RunningHttp | null = null;
  let adminToken: string | null = null;
  let closeEdge: () => void | Promise<void> = () => {};
  /** Embedded mode: the edge's relay API (RCPT, AUTH, ingest), called in-process (relay/edge-local.ts). */
  let localRelay: { api: RelayApi; thread: EdgeThread | null } | null = null;
  /** Embedded mode: the edge's IMAP store operations, called in-process (relay/imap-local.ts). */
  let localImap: ImapStoreApi | null = null;
  const storeChanged: Array<() => void> = [];
  // One pair of IMAP connection caps for every IMAP listener (and across config reloads).
  const imapConnections = new ConnectionLimiter({
    maxConnections: config.limits.imapMaxConnections,
    maxConnectionsPerIp: config.limits.imapMaxConnectionsPerIp,
  });
  let draining = false;
  let current = config;
  let edgeAtStart: string | null = null;
  let startCheckFailed: string | null = null;

  const wakeImap = () => {
    for (const fn of storeChanged) fn();
  };
  const edgeClients = (cfg: Config): { edge: RelayEdge; imapStore: LocalImapStore | ImapClient } => ({
    edge: localRelay
      ? new LocalRelayEdge({
          ...localRelay,
          timeoutMs: cfg.edge.timeoutMs,
          onStored: wakeImap,
          onError: (err) => log.error("edge.failed", { reason: (err as Error).message }),
        })
      : new EdgeClient({ fetch: edgeFetch, baseUrl, secret: relaySecret, timeoutMs: cfg.edge.timeoutMs }),
    imapStore: localImap
      ? new LocalImapStore({
          api: localImap,
          onWrite: wakeImap,
          onError: (err) => log.error("edge.imap-failed", { reason: (err as Error).message }),
        })
      : new ImapClient({
          fetch: edgeFetch,
          baseUrl,
          secret: relaySecret,
          timeoutMs: cfg.edge.timeoutMs,
        }),
  });
  let monitor: EdgeMonitor | null = null;
  const health = (req: Request) =>
    monitor
      ? healthResponse(req, {
          edge: monitor,
          certs,
          acme: () => acme?.status() ?? null,
          draining: () => draining,
          mode: config.edge.url ? "relay" : "embedded",
        })
      : null;
  const admin = (req: Request): Response | null => {
    if (new URL(req.url).pathname === "/metrics") return metricsResponse();
    return health(req);
  };

  if (config.edge.url) {
    if (extras.handlerFile) throw new Error("--handler needs the embedded edge (no edge.url)");
    relaySecret = relaySecretFrom(env, config.edge.secretFile);
    edgeFetch = streamingFetch; // node:http, not global fetch: see relay/http-fetch.ts (memory)
    baseUrl = config.edge.url;
    try {
      await checkEdgeAtStart(edgeFetch, baseUrl, relaySecret);
      edgeAtStart = "reachable, relay secret accepted";
    } catch (err) {
      if (!(err instanceof EdgeUnreachable)) throw err;
      // Stay up: SMTP answers 4xx until the edge answers, then mail flows without a restart.
      edgeAtStart = `${err.message}; starting anyway, mail gets 4xx until it answers`;
      startCheckFailed = err.message;
      log.error("edge.unreachable-at-start", { url: baseUrl, reason: err.message });
    }
    // The admin port: /metrics, /healthz, /readyz.
    http = await serveHttp(
      (req) => admin(req) ?? new Response("not found\n", { status: 404 }),
      config.http.host,
      config.http.port,
    );
  } else {
    const secrets = loadSecrets(dataDir, env);
    relaySecret = secrets.relaySecret;
    adminToken = secrets.adminToken;
    const handler = extras.handlerFile ? await importHandler(extras.handlerFile, env, log) : null;
    const edge = await openEmbeddedEdge({
      ...embeddedEdgeOptions(config, dataDir, secrets),
      policy: compilePolicy({
        rules: [...config.rules, ...RuleSchema.array().parse(handler?.rules ?? [])],
        dnsbl: [...config.dnsbl, ...DnsblSchema.array().parse(handler?.dnsbl ?? [])],
      }),
      handler: handler?.hook,
      ...adminEdgeOptions(config, dataDir, env),
    });
    if (edge.migrated.length > 0) log.info("store.migrated", { applied: edge.migrated, path: edge.path });
    const app = edge.app;
    localImap = edge.imap;
    handler?.routes?.(app);
    edgeFetch = async (req) => {
      const res = await app.fetch(req);
      // Any successful write in this process wakes idling IMAP clients (see imap/watcher.ts).
      if (res.ok && isStoreWrite(req)) wakeImap();
      return res;
    };
    baseUrl = "http://edge.internal";
    // The relay's Prometheus metrics and health share the HTTP port with the edge's API.
    http = await serveHttp(
      (req, env) => admin(req) ?? app.fetch(req, env),
      config.http.host,
      config.http.port,
    );
    const stopOutbox = await startOutbox(config, edge.store, http.port, relaySecret, log);
    // The relay calls the edge's relay API in-process (relay/edge-local.ts), not through its HTTP routes.
    // MXEDGE_EDGE_THREAD=1: SMTP message ingest (parse, authenticate, rules, store) runs on a second
    // thread, so it does not compete with the SMTP/IMAP sessions for one core; RCPT and AUTH checks stay
    // here. Opt-in: it pays only with an idle core, and costs ~150-280 MiB of RSS (bench:smtp: about
    // 595 vs 370 MiB peak), which a small VPS can't spare.
    // A --handler module holds the user's functions, which live in this thread: ingest stays here then.
    const thread =
      env.MXEDGE_EDGE_THREAD !== "1" || handler
        ? null
        : await startEdgeThread({ config, dataDir, ...secrets }).catch((err: Error) => {
            log.error("edge.thread.failed", { reason: err.message });
            return null;
          });
    localRelay = { api: edge.relay, thread };
    closeEdge = async () => {
      stopOutbox();
      await thread?.close();
      edge.close();
    };
  }

  const probeClient = edgeClients(config).edge;
  monitor = new EdgeMonitor(
    async () => {
      const r = await probeClient.health();
      return r.ok ? { ok: true } : { ok: false, reason: r.reason };
    },
    config.edge.healthIntervalMs,
    log,
  );
  if (startCheckFailed !== null) monitor.assume("down", startCheckFailed);
  monitor.start();
  const edgeMonitor = monitor;

  /** Every handler ever made (reloads retire old ones while their sessions finish), for the drain. */
  const handlers: Handlers = { all: [], smtp: [] };

  const handlerFor = (cfg: Config, l: ListenerConfig): ProtocolHandler => {
    const { edge, imapStore } = edgeClients(cfg);
    const made: ProtocolHandler =
      l.role === "imap" || l.role === "imaps"
        ? createImapEngine({
            listener: l,
            hostname: cfg.hostname,
            edge,
            store: imapStore,
            secureContext: () => certs.defaultContext(),
            log,
            maxMessageBytes: cfg.limits.maxMessageBytes,
            // IDLE polls the store: every second in-process, every 10 s against a remote edge.
            idlePollMs: Number(env.MXEDGE_IMAP_IDLE_POLL_MS) || (cfg.edge.url ? 10_000 : 1000),
            onStoreChange: cfg.edge.url ? undefined : (fn) => storeChanged.push(fn),
            // Message bodies kept in memory across IMAP sessions (default 64 MiB).
            cacheBytes: Number(env.MXEDGE_IMAP_CACHE_BYTES) || undefined,
            connections: imapConnections,
          })
        : (() => {
            const smtp = createSmtpEngine({
              listener: l,
              hostname: cfg.hostname,
              edge,
              tls: certs.defaultPem(),
              certificates: certs,
              edgeDown: () => edgeMonitor.isDown(),
              whenDown: cfg.edge.whenDown,
              maxMessageBytes: cfg.limits.maxMessageBytes,
              maxRecipients: cfg.limits.maxRecipients,
              limits: cfg.limits, // SMTP session limits (bare newlines, timeouts, connections, AUTH, rate)
              log,
            });
            handlers.smtp.push(smtp);
            return smtp;
          })();
    handlers.all.push(made);
    return made;
  };
  const depsFor = (cfg: Config, l: ListenerConfig) => ({
    handler: handlerFor(cfg, l),
    secureContext: () => certs.defaultContext(),
    sniCallback: certs.sniCallback,
    implicitTls: listenerTls(l) === "implicit",
    accept: proxyAcceptor(l, listenerProxyPolicy(cfg, l), log),
    log,
  });

  const listeners: RunningListener[] = [];
  const listenerConfigs = new Map<string, ListenerConfig>();
  try {
    for (const l of config.listeners) {
      listeners.push(await startListener(l, depsFor(config, l)));
      listenerConfigs.set(l.name, l);
    }
  } catch (err) {
    for (const l of listeners) await l.close();
    await http?.close();
    await acme?.stop();
    edgeMonitor.stop();
    stopWatching();
    await closeEdge();
    throw err;
  }

  const stopAll = async () => {
    edgeMonitor.stop();
    stopWatching();
    await acme?.stop();
    await http?.close();
    await closeEdge();
  };

  return {
    mode: config.edge.url ? "relay" : "embedded",
    dataDir,
    listeners,
    http,
    adminToken,
    acmeHttpPort: acme?.httpPort ?? null,
    edgeAtStart,
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      await stopAll();
    },
    async drain(graceMs = current.shutdownGraceMs) {
      draining = true;
      const deadline = Date.now() + graceMs;
      log.info("server.draining", { graceMs });
      await Promise.all(listeners.map((l) => l.stopAccepting()));
      // IMAP: BYE at once (a session has nothing that must finish); SMTP: transactions finish first.
      await Promise.all(
        handlers.all.filter((h) => !handlers.smtp.includes(h as SmtpEngine)).map((h) => h.close()),
      );
      await Promise.all(handlers.smtp.map((h) => h.drain(deadline)));
      await Promise.all(listeners.map((l) => l.close()));
      await stopAll();
      log.info("server.drained", { ms: graceMs - (deadline - Date.now()) });
    },
    async reload(next) {
      if (draining) throw new Error("draining");
      // Certificates first: a pair that does not load refuses the whole reload.
      const trial = new CertStore();
      for (const pair of certFilePairs(next)) trial.set(makeEntry(`files:${pair.cert}`, pair.loaded()));
      const changed = next.listeners.filter((l) => {
        const old = listenerConfigs.get(l.name);
        return !old || old.host !== l.host || old.port !== l.port;
      });
      const started: RunningListener[] = [];
      try {
        for (const l of changed) started.push(await startListener(l, depsFor(next, l)));
      } catch (err) {
        for (const l of started) await l.close();
        throw err;
      }
      // From here on nothing can fail.
      const oldPairs = certFilePairs(current);
      stopWatching();
      for (const p of oldPairs) certs.remove(`files:${p.cert}`);
      stopWatching = watchCertFiles(certs, certFilePairs(next), next.tls.watchMs, log);
      if (certFilePairs(next).length > 0) certs.remove("self-signed");
      const keep = new Set(next.listeners.map((l) => l.name));
      for (let i = listeners.length - 1; i >= 0; i--) {
        const running = listeners[i];
        if (!running) continue;
        const cfg = next.listeners.find((l) => l.name === running.name);
        if (!keep.has(running.name) || (cfg && changed.includes(cfg))) {
          await running.stopAccepting(); // its open sessions finish on the old handler
          listeners.splice(i, 1);
          listenerConfigs.delete(running.name);
        } else if (cfg) {
          running.replace(depsFor(next, cfg));
          listenerConfigs.set(cfg.name, cfg);
        }
      }
      for (const [i, l] of started.entries()) {
        listeners.push(l);
        const cfg = changed[i];
        if (cfg) listenerConfigs.set(cfg.name, cfg);
      }
      current = next;
      log.info("config.reloaded", {
        listeners: listeners.map((l) => `${l.name}:${l.port}`),
        certificates: certs.summary().map((c) => c.names.join(",")),
      });
    },
  };
}

/** `serve --handler FILE`: the module's email() handler (env: this process's environment). */
async function importHandler(
  file: string,
  env: Record<string, string | undefined>,
  log: Logger,
): Promise<LoadedHandler> {
  const path = resolve(file);
  const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  const handler = loadHandler(mod.default, {
    env: { ...env },
    timeoutEnv: env.MXEDGE_HANDLER_TIMEOUT_MS,
    onError: (err) => log.error("handler.failed", { error: err instanceof Error ? err.stack : String(err) }),
  });
  log.info("handler.loaded", { path, email: handler.hook !== undefined, timeoutMs: handler.hook?.timeoutMs });
  return handler;
}

/** The configured PEM file pairs: tls.cert/key first (the default), then tls.certificates. */
function certFilePairs(
  config: Config,
): Array<{ cert: string; key: string; loaded(): { cert: string; key: string } }> {
  const pairs = [
    ...(config.tls.cert && config.tls.key ? [{ cert: config.tls.cert, key: config.tls.key }] : []),
    ...config.tls.certificates,
  ];
  return pairs.map((p) => ({
    ...p,
    loaded: () => ({ cert: readFileSync(p.cert, "utf8"), key: readFileSync(p.key, "utf8") }),
  }));
}

function metricsResponse(): Response {
  return new Response(renderMetrics() + renderProxyMetrics(), {
    headers: { "content-type": METRICS_CONTENT_TYPE },
  });
}
