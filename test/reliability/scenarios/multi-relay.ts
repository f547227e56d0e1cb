/**
 * Two relay processes behind a real HAProxy (round-robin, PROXY v2), one edge. Mail delivered through
 * relay A shows up in an IDLE session on relay B within B's poll interval, and flag changes made on B
 * show up in an IDLE session on A. The client address HAProxy forwards is what the store records.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { freePort } from "../../e2e/harness.ts";
import { type Daemon, requireTools, startDaemon, waitForPort } from "../../e2e/tools.ts";
import { ImapConn } from "../lib/imap.ts";
import { FROM, Ledger } from "../lib/ledger.ts";
import { freePorts, type MxProcess, PASSWORD, provision, secretsOf, spawnMx, USER } from "../lib/procs.ts";
import { sendOne } from "../lib/smtp.ts";
import { Checker, ms, percentile, type ScenarioResult } from "../lib/stats.ts";

const POLL_MS = 2000;
const CLIENT_IP = "127.0.0.9";

function relayToml(): string {
  return `[[listeners]]
name = "smtp"
role = "mx"
port = 1
proxy = { trusted = ["127.0.0.1"] }

[[listeners]]
name = "imaps"
role = "imaps"
port = 1
proxy = { trusted = ["127.0.0.1"] }
`;
}

export async function multiRelayScenario(): Promise<ScenarioResult> {
  const t0 = Date.now();
  const c = new Checker();
  const name = "two relays behind HAProxy";
  requireTools("haproxy");
  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "mxedge-rel-multi-")));
  const [edgeDir, dirA, dirB] = dirs as [string, string, string];
  const procs: MxProcess[] = [];
  let haproxy: Daemon | null = null;
  const sessions: ImapConn[] = [];
  try {
    const edge = await spawnMx({ mode: "serve", dataDir: edgeDir, ports: await freePorts() });
    procs.push(edge);
    await provision(edge, edgeDir);
    const relay = async (dir: string, host: string) => {
      const ports = await freePorts();
      // The config file's listener list replaces the default one; the flags set the two ports.
      const toml = relayToml();
      const p = await spawnMx({
        mode: "relay",
        dataDir: dir,
        ports,
        hostname: host,
        edgeUrl: `http://127.0.0.1:${edge.ports.http}`,
        toml,
        portFlags: ["smtp", "imaps", "http"],
        env: {
          MXEDGE_RELAY_SECRET: secretsOf(edgeDir).relaySecret,
          MXEDGE_IMAP_IDLE_POLL_MS: String(POLL_MS),
        },
      });
      procs.push(p);
      return p;
    };
    const a = await relay(dirA, "relay-a.reliability.test");
    const b = await relay(dirB, "relay-b.reliability.test");
    const fe = { smtp: await freePort(), imaps: await freePort() };
    const cfgDir = mkdtempSync(join(tmpdir(), "mxedge-rel-haproxy-"));
    dirs.push(cfgDir);
    writeFileSync(
      join(cfgDir, "haproxy.cfg"),
      `global
  maxconn 500
defaults
  mode tcp
  timeout connect 5s
  timeout client 2m
  timeout server 2m
frontend fe_smtp
  bind 127.0.0.1:${fe.smtp}
  default_backend be_smtp
backend be_smtp
  balance roundrobin
  server a 127.0.0.1:${a.ports.smtp} send-proxy-v2 proxy-v2-options crc32c
  server b 127.0.0.1:${b.ports.smtp} send-proxy-v2 proxy-v2-options crc32c
frontend fe_imaps
  bind 127.0.0.1:${fe.imaps}
  default_backend be_imaps
backend be_imaps
  balance roundrobin
  server a 127.0.0.1:${a.ports.imaps} send-proxy-v2
  server b 127.0.0.1:${b.ports.imaps} send-proxy-v2
`,
    );
    haproxy = startDaemon("haproxy", ["-f", join(cfgDir, "haproxy.cfg"), "-db"]);
    await waitForPort(fe.smtp);
    await waitForPort(fe.imaps);

    // IMAP sessions through HAProxy until there is one on each relay (the greeting names the relay).
    const on: Record<"a" | "b", ImapConn | null> = { a: null, b: null };
    for (let i = 0; i < 8 && !(on.a && on.b); i++) {
      const s = await ImapConn.open(fe.imaps, { tls: true, localAddress: CLIENT_IP });
      if (!s) continue;
      sessions.push(s);
      const which = s.greeting.includes("relay-a.") ? "a" : s.greeting.includes("relay-b.") ? "b" : null;
      if (which && !on[which]) on[which] = s;
    }
    const sa = on.a;
    const sb = on.b;
    if (
      !c.check(sa !== null && sb !== null, "round-robin did not reach both relays over IMAP") ||
      !sa ||
      !sb
    ) {
      throw new Error("no IMAP session on each relay");
    }
    for (const s of [sa, sb]) {
      c.check((await s.command(`LOGIN ${USER} "${PASSWORD}"`))?.includes("OK") === true, "LOGIN failed");
      c.check((await s.command("SELECT INBOX"))?.includes("OK") === true, "SELECT failed");
      s.drain();
    }
    c.check(await sb.idle(), "IDLE refused on B");

    // Mail through HAProxy; each message lands on A or B (the banner tells). A's show up on B's IDLE.
    const ledger = new Ledger("multi");
    const seen: number[] = [];
    let viaA = 0;
    let viaB = 0;
    for (let i = 0; i < 4; i++) {
      const msg = ledger.make(2000);
      const r = await sendOne(fe.smtp, FROM, USER, msg.raw, { localAddress: CLIENT_IP });
      if (!c.check(r.code === 250, `SMTP via HAProxy: ${r.code} ${r.text}`)) continue;
      msg.accepted++;
      const t = performance.now();
      if (r.banner.includes("relay-a.")) {
        viaA++;
        const line = await sb.waitFor((l) => /^\* \d+ EXISTS$/.test(l), POLL_MS + 3000);
        const took = performance.now() - t;
        if (c.check(line !== null, "B's IDLE never saw mail delivered through A")) seen.push(took);
      } else {
        viaB++;
        await sb.waitFor((l) => /^\* \d+ EXISTS$/.test(l), POLL_MS + 3000);
      }
    }
    c.check(viaA > 0 && viaB > 0, `round-robin SMTP: ${viaA} via A, ${viaB} via B`);
    const maxSeen = Math.max(0, ...seen);
    c.check(maxSeen <= POLL_MS + 500, `A→B IDLE took ${maxSeen.toFixed(0)} ms (> poll ${POLL_MS} ms + 500)`);

    // A flag change on B is seen by an IDLE session on A.
    await sb.done();
    c.check(await sa.idle(), "IDLE refused on A");
    const tf = performance.now();
    c.check(
      (await sb.command("UID STORE 1:* +FLAGS (\\Flagged)"))?.includes("OK") === true,
      "STORE on B failed",
    );
    const flagLine = await sa.waitFor((l) => /^\* \d+ FETCH \(.*\\Flagged/.test(l), POLL_MS + 3000);
    const flagMs = performance.now() - tf;
    c.check(flagLine !== null, "A's IDLE never saw B's flag change");
    c.check(flagMs <= POLL_MS + 500, `B→A flag change took ${flagMs.toFixed(0)} ms`);
    await sa.done();
    const fetched = await sa.command("FETCH 1:* (FLAGS)");
    c.check(fetched?.includes("OK") === true, "FETCH on A failed");

    // The client address HAProxy passed in PROXY v2 is what was recorded.
    const db = new DatabaseSync(join(edgeDir, "mxedge.db"), { readOnly: true });
    const conns = db.prepare("SELECT connection FROM ingests").all() as Array<{ connection: string }>;
    db.close();
    const ips = new Set(
      conns.map(
        (r) =>
          (JSON.parse(r.connection) as { connection?: { client?: { address?: string } } }).connection?.client
            ?.address,
      ),
    );
    c.check(ips.size === 1 && ips.has(CLIENT_IP), `recorded client IPs: ${[...ips].join(", ")}`);
    return {
      name,
      ok: c.failures.length === 0,
      seconds: (Date.now() - t0) / 1000,
      failures: c.failures,
      totals: { p99: { "A→B IDLE notice (2 s poll)": percentile(seen, 99) } },
      figures: {
        "messages via A / via B": `${viaA} / ${viaB}`,
        "A→B IDLE notice (max)": `${ms(maxSeen)} (poll ${POLL_MS} ms)`,
        "B→A flag change": ms(flagMs),
        "A→B p99": ms(percentile(seen, 99)),
      },
    };
  } catch (err) {
    c.failures.push(String(err instanceof Error ? err.stack : err));
    return { name, ok: false, seconds: (Date.now() - t0) / 1000, failures: c.failures, figures: {} };
  } finally {
    for (const s of sessions) s.close();
    await haproxy?.stop();
    for (const p of procs) await p.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
