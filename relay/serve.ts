/**
 * `mxedge serve`: the relay's listeners, plus (embedded mode) the edge in this process on a SQLite file
 * and its HTTP API. With `edge.url` set it runs as a relay only and reaches the edge over HTTPS.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { resolverFromConfig } from "../edge/dns-config.ts";
import { openEmbeddedEdge } from "../edge/embedded.ts";
import { type LoadedHandler, loadHandler } from "../edge/library/handler-module.ts";
import { type Config, type ListenerConfig, listenerProxyPolicy, listenerTls } from "../src/config.ts";
import { parseCidrList } from "../src/net/cidr.ts";
import { compilePolicy } from "../src/rules/index.ts";
import { DnsblSchema, RuleSchema } from "../src/rules/schema.ts";
import { EdgeClient, type EdgeFetch } from "./edge-client.ts";
import { streamingFetch } from "./http-fetch.ts";
import { type RunningHttp, serveHttp } from "./http-server.ts";
import { createImapEngine } from "./imap/server.ts";
import { ImapClient } from "./imap-client.ts";
import { type ProtocolHandler, type RunningListener, startListener } from "./listener.ts";
import type { Logger } from "./log.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { startOutbox } from "./outbox-timer.ts";
import { renderProxyMetrics } from "./proxy/prometheus.ts";
import { proxyAcceptor } from "./proxy-accept.ts";
import { loadSecrets } from "./secrets.ts";
import { createSmtpEngine } from "./smtp/server.ts";
import { loadCertificate, secureContextFor } from "./tls-files.ts";

export interface RunningServer {
  mode: "embedded" | "relay";
  dataDir: string;
  listeners: RunningListener[];
  http: RunningHttp | null;
  adminToken: string | null;
  close(): Promise<void>;
}

export async function serve(
  config: Config,
  env: Record<string, string | undefined>,
  log: Logger,
  extras: { handlerFile?: string } = {},
): Promise<RunningServer> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const certificate = await loadCertificate(dataDir, config.tls, config.hostname);
  const secureContext = secureContextFor(certificate);

  let edgeFetch: EdgeFetch;
  let baseUrl: string;
  let relaySecret: string;
  let http: RunningHttp | null = null;
  let adminToken: string | null = null;
  let closeEdge = () => {};

  if (config.edge.url) {
    if (extras.handlerFile) throw new Error("--handler needs the embedded edge (no edge.url)");
    relaySecret = env.MXEDGE_RELAY_SECRET ?? "";
    if (!relaySecret) throw new Error("remote mode needs the relay secret in MXEDGE_RELAY_SECRET");
    edgeFetch = streamingFetch; // node:http, not global fetch: see relay/http-fetch.ts (memory)
    baseUrl = config.edge.url;
  } else {
    const secrets = loadSecrets(dataDir, env);
    relaySecret = secrets.relaySecret;
    adminToken = secrets.adminToken;
    const handler = extras.handlerFile ? await importHandler(extras.handlerFile, env, log) : null;
    const edge = await openEmbeddedEdge({
      dataDir,
      hostname: config.hostname,
      relaySecret,
      adminToken,
      maxMessageBytes: config.limits.maxMessageBytes,
      auth: config.auth.enabled
        ? {
            resolver: resolverFromConfig(config.dns),
            onTempError: config.auth.onTempError,
            enforceDmarc: config.auth.enforceDmarc,
          }
        : undefined,
      policy: compilePolicy({
        rules: [...config.rules, ...RuleSchema.array().parse(handler?.rules ?? [])],
        dnsbl: [...config.dnsbl, ...DnsblSchema.array().parse(handler?.dnsbl ?? [])],
      }),
      handler: handler?.hook,
      webhookAllow: parseCidrList(config.webhookAllow),
      publicUrl: config.publicUrl ?? `http://${config.http.host}:${config.http.port}`,
    });
    if (edge.migrated.length > 0) log.info("store.migrated", { applied: edge.migrated, path: edge.path });
    const app = edge.app;
    handler?.routes?.(app);
    edgeFetch = async (req) => app.fetch(req);
    baseUrl = "http://edge.internal";
    // The relay's Prometheus metrics share the HTTP port with the edge's API.
    http = await serveHttp(
      (req) => (new URL(req.url).pathname === "/metrics" ? metricsResponse() : app.fetch(req)),
      config.http.host,
      config.http.port,
    );
    const stopOutbox = await startOutbox(config, edge.store, http.port, relaySecret, log);
    closeEdge = () => {
      stopOutbox();
      edge.close();
    };
  }

  const edge = new EdgeClient({
    fetch: edgeFetch,
    baseUrl,
    secret: relaySecret,
    timeoutMs: config.edge.timeoutMs,
  });
  const imapStore = new ImapClient({
    fetch: edgeFetch,
    baseUrl,
    secret: relaySecret,
    timeoutMs: config.edge.timeoutMs,
  });
  const handlerFor = (l: ListenerConfig): ProtocolHandler =>
    l.role === "imap" || l.role === "imaps"
      ? createImapEngine({
          listener: l,
          hostname: config.hostname,
          edge,
          store: imapStore,
          secureContext: () => secureContext,
          log,
          maxMessageBytes: config.limits.maxMessageBytes,
          // IDLE polls the store: every second in-process, every 10 s against a remote edge.
          idlePollMs: Number(env.MXEDGE_IMAP_IDLE_POLL_MS) || (config.edge.url ? 10_000 : 1000),
        })
      : createSmtpEngine({
          listener: l,
          hostname: config.hostname,
          edge,
          tls: { key: certificate.key, cert: certificate.cert },
          maxMessageBytes: config.limits.maxMessageBytes,
          maxRecipients: config.limits.maxRecipients,
          limits: config.limits, // SMTP session limits (bare newlines, timeouts, connections, AUTH, rate)
          log,
        });

  const listeners: RunningListener[] = [];
  try {
    for (const l of config.listeners) {
      listeners.push(
        await startListener(l, {
          handler: handlerFor(l),
          secureContext: () => secureContext,
          implicitTls: listenerTls(l) === "implicit",
          accept: proxyAcceptor(l, listenerProxyPolicy(config, l), log),
          log,
        }),
      );
    }
  } catch (err) {
    for (const l of listeners) await l.close();
    await http?.close();
    closeEdge();
    throw err;
  }

  return {
    mode: config.edge.url ? "relay" : "embedded",
    dataDir,
    listeners,
    http,
    adminToken,
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      await http?.close();
      closeEdge();
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

function metricsResponse(): Response {
  return new Response(renderMetrics() + renderProxyMetrics(), {
    headers: { "content-type": METRICS_CONTENT_TYPE },
  });
}
