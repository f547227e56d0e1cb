/**
 * Embedded mode's webhook outbox driver: applies the config's endpoints, then runs the outbox every
 * second (Workers use the cron trigger instead). A run never overlaps the previous one.
 */
import type { Config } from "../src/config.ts";
import { parseCidrList } from "../src/net/cidr.ts";
import type { Store } from "../src/store/index.ts";
import { endpointInput } from "../src/webhooks/config.ts";
import { deliverDue } from "../src/webhooks/outbox.ts";
import { filesSigningKey } from "../src/webhooks/signed-url.ts";
import type { Logger } from "./log.ts";

export async function startOutbox(
  config: Config,
  store: Store,
  httpPort: number,
  relaySecret: string,
  log: Logger,
): Promise<() => void> {
  for (const w of config.webhooks) await store.webhooks.upsertEndpoint(endpointInput(w));
  const deps = {
    store,
    now: Date.now,
    fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, init),
    publicUrl: config.publicUrl ?? `http://${config.http.host}:${httpPort}`,
    urlSigningKey: filesSigningKey(relaySecret),
    allow: parseCidrList(config.webhookAllow),
    retry: config.webhookRetry,
    log: (event: string, fields: Record<string, unknown>) => log.info(event, fields),
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    deliverDue(deps)
      .catch((err: unknown) => log.error("webhook.outbox-failed", { reason: (err as Error).message }))
      .finally(() => {
        running = false;
      });
  }, 1000);
  return () => clearInterval(timer);
}
