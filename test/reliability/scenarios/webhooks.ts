/**
 * Webhook receiver chaos: a receiver that fails at random (500/503, connection dropped before or after it
 * processed the event, slow answers) and a server killed with SIGKILL twice mid-delivery. The receiver
 * handles `webhook-id` idempotently; every message must be processed exactly once, every delivery end
 * `delivered`, and the delivery log must match what the receiver saw.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { newWebhookSecret, verifyWebhook } from "../../../src/webhooks/sign.ts";
import { Ledger } from "../lib/ledger.ts";
import { freePorts, type MxProcess, provision, spawnMx } from "../lib/procs.ts";
import { codesText, newStats, runSenders } from "../lib/senders.ts";
import { Checker, ms, percentile, type ScenarioResult } from "../lib/stats.ts";

type Outcome = "ok" | "500" | "503" | "drop-before" | "drop-after" | "slow";

export async function webhookScenario(opts: { messages: number; kills: number }): Promise<ScenarioResult> {
  const t0 = Date.now();
  const c = new Checker();
  const name = "webhook receiver chaos";
  const dataDir = mkdtempSync(join(tmpdir(), "mxedge-rel-webhooks-"));
  let mx: MxProcess | null = null;
  let app: Server | null = null;
  try {
    const secret = newWebhookSecret();
    const processed = new Map<string, string>(); // webhook-id → Message-ID
    const seenByMessage = new Map<string, number>();
    const requests = new Map<string, number[]>(); // webhook-id → statuses answered (0 = dropped)
    const outcomes = new Map<Outcome, number>();
    let badSignatures = 0;
    let duplicatesIgnored = 0;
    const firstSeen = new Map<string, number>();
    const deliveredAfter: number[] = [];
    app = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (d: Buffer) => parts.push(d));
      req.on("end", async () => {
        const body = Buffer.concat(parts);
        const id = String(req.headers["webhook-id"]);
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
        const verified = await verifyWebhook(secret, headers, body);
        const r = Math.random();
        const outcome: Outcome =
          r < 0.45
            ? "ok"
            : r < 0.6
              ? "500"
              : r < 0.7
                ? "503"
                : r < 0.8
                  ? "drop-before"
                  : r < 0.9
                    ? "drop-after"
                    : "slow";
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        const record = (status: number) => requests.set(id, [...(requests.get(id) ?? []), status]);
        if (!firstSeen.has(id)) firstSeen.set(id, Date.now());
        if (!verified.ok) {
          badSignatures++;
          record(401);
          res.writeHead(401).end();
          return;
        }
        const process = () => {
          // Idempotent handling: a webhook-id already processed is acknowledged and ignored.
          if (processed.has(id)) {
            duplicatesIgnored++;
            return;
          }
          const mail = JSON.parse(body.toString()) as { messageId?: string };
          processed.set(id, mail.messageId ?? "");
          seenByMessage.set(mail.messageId ?? "", (seenByMessage.get(mail.messageId ?? "") ?? 0) + 1);
          deliveredAfter.push(Date.now() - (firstSeen.get(id) ?? Date.now()));
        };
        if (outcome === "500" || outcome === "503") {
          record(Number(outcome));
          res.writeHead(Number(outcome)).end("try later");
        } else if (outcome === "drop-before") {
          record(0);
          req.socket.destroy();
        } else if (outcome === "drop-after") {
          process();
          record(0);
          req.socket.destroy();
        } else if (outcome === "slow") {
          setTimeout(() => {
            process();
            record(200);
            res.writeHead(200).end();
          }, 400);
        } else {
          process();
          record(200);
          res.writeHead(200).end();
        }
      });
    });
    const receiver = app;
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const port = (receiver.address() as { port: number }).port;
    const ports = await freePorts();
    const toml = `webhookAllow = ["127.0.0.0/8"]
webhookRetry = { baseDelayMs = 200, maxDelayMs = 1000, maxAttempts = 40 }

[[webhooks]]
name = "chaos"
url = "http://127.0.0.1:${port}/hook"
secret = "${secret}"
`;
    mx = await spawnMx({ mode: "serve", dataDir, ports, toml });
    await provision(mx, dataDir);
    const ledger = new Ledger("hook");
    const stats = newStats();
    let made = 0;
    const sending = runSenders({
      port: () => ports.smtp,
      ledger,
      workers: 4,
      produce: () => made++ < opts.messages,
      deadlineMs: 120_000,
      stats,
    });
    let kills = 0;
    for (let k = 0; k < opts.kills; k++) {
      await new Promise((r) => setTimeout(r, 2000 + Math.random() * 3000));
      await mx.kill9();
      kills++;
      mx = await spawnMx({ mode: "serve", dataDir, ports, toml });
    }
    await sending;
    c.check(
      ledger.acceptedCount === opts.messages,
      `only ${ledger.acceptedCount} of ${opts.messages} accepted`,
    );
    // Done when every message was processed and every delivery got a 2xx (one processed and then dropped
    // is still retried by the outbox), then a moment longer for the log and for a wrong extra delivery.
    const until = Date.now() + (kills > 0 ? 120_000 : 60_000); // a killed attempt keeps its lease (timeout + 60 s)
    const answered = () =>
      processed.size >= ledger.acceptedCount && [...requests.values()].every((st) => st.includes(200));
    while (!answered() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000));
    await mx.stop();

    const db = new DatabaseSync(join(dataDir, "mxedge.db"), { readOnly: true });
    const deliveries = db.prepare("SELECT id, state, attempts FROM webhook_deliveries").all() as Array<{
      id: string;
      state: string;
      attempts: number;
    }>;
    const attemptRows = db
      .prepare("SELECT delivery_id AS id, status FROM webhook_attempts ORDER BY id")
      .all() as Array<{ id: string; status: number | null }>;
    db.close();
    const logged = new Map<string, number[]>();
    for (const a of attemptRows) logged.set(a.id, [...(logged.get(a.id) ?? []), a.status ?? 0]);

    const exactlyOnce = [...ledger.sent.values()].every(
      (s) => seenByMessage.get(`<${s.id}@sender.test>`) === 1,
    );
    c.check(exactlyOnce, "not every message processed exactly once by the idempotent receiver");
    c.check(
      processed.size === ledger.acceptedCount,
      `processed ${processed.size} ≠ accepted ${ledger.acceptedCount}`,
    );
    c.check(
      deliveries.length === ledger.acceptedCount,
      `${deliveries.length} deliveries for ${ledger.acceptedCount} messages`,
    );
    const notDelivered = deliveries.filter((d) => d.state !== "delivered");
    c.check(
      notDelivered.length === 0,
      `${notDelivered.length} deliveries not delivered: ${notDelivered
        .slice(0, 3)
        .map((d) => `${d.id}=${d.state}`)
        .join(", ")}`,
    );
    c.check(badSignatures === 0, `${badSignatures} bad signatures`);
    // The log adds up: per delivery, the logged attempts are what the receiver answered, in order; an
    // attempt in flight when the server was killed may be missing from the log (never the reverse).
    let unlogged = 0;
    let mismatched = 0;
    let totalLogged = 0;
    for (const d of deliveries) {
      const got = requests.get(d.id) ?? [];
      const log = logged.get(d.id) ?? [];
      totalLogged += log.length;
      if (log.length !== d.attempts) mismatched++;
      let j = 0;
      for (const s of got) if (j < log.length && log[j] === s) j++;
      if (j !== log.length) mismatched++;
      unlogged += got.length - log.length;
    }
    const totalRequests = [...requests.values()].reduce((a, b) => a + b.length, 0);
    c.check(mismatched === 0, `${mismatched} deliveries whose log does not match the receiver's view`);
    c.check(
      unlogged >= 0 && unlogged <= kills * 2,
      `${unlogged} attempts missing from the log after ${kills} kills`,
    );
    c.check(
      [...requests.keys()].every((id) => deliveries.some((d) => d.id === id)),
      "the receiver saw a webhook-id the log does not know",
    );
    const o = (k: Outcome) => outcomes.get(k) ?? 0;
    return {
      name,
      ok: c.failures.length === 0,
      seconds: (Date.now() - t0) / 1000,
      failures: c.failures,
      totals: {
        faults: totalRequests - o("ok"),
        kills,
        p99: { "webhook first attempt → processed": percentile(deliveredAfter, 99) },
      },
      figures: {
        "messages / processed exactly once": `${ledger.acceptedCount} / ${processed.size}`,
        "receiver requests (outcomes)": `${totalRequests} (ok ${o("ok")}, 500 ${o("500")}, 503 ${o("503")}, drop ${o("drop-before")}, drop-after-processing ${o("drop-after")}, slow ${o("slow")})`,
        "redeliveries ignored by webhook-id": duplicatesIgnored,
        "delivery log": `${totalLogged} attempts logged, ${unlogged} in flight at a kill; ${deliveries.length} delivered`,
        "kills survived": kills,
        "first request → processed p99": ms(percentile(deliveredAfter, 99)),
        "SMTP replies": codesText(stats.codes),
      },
    };
  } catch (err) {
    c.failures.push(String(err instanceof Error ? err.stack : err));
    return { name, ok: false, seconds: (Date.now() - t0) / 1000, failures: c.failures, figures: {} };
  } finally {
    await mx?.kill9();
    await new Promise((r) => (app ? app.close(r) : r(null)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
