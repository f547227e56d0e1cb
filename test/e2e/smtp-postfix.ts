/**
 * A private Postfix instance (Debian's package) for tests and the benchmark: its own config, queue and
 * data directories under a temp dir, no chroot, loopback only. Needs root (Postfix's master does).
 * Either a sending MTA (`relayhost`) fed by sendmail, or a receiving one (`listen` + `maildirDomain`)
 * that delivers into a Maildir with the virtual agent.
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface PostfixOptions {
  /** Send everything to this host:port (e.g. "[127.0.0.1]:2525"). */
  relayhost?: string;
  /** Accept SMTP on 127.0.0.1:<listen>. */
  listen?: number;
  /** Deliver mail for this domain into `<dir>/mail/<domain>/` (a Maildir). */
  maildirDomain?: string;
}

export interface RunningPostfix {
  dir: string;
  maildir: string;
  sendmail(from: string, to: string, message: string): Promise<void>;
  /** Messages still in the queue (maildrop, incoming, active, deferred). */
  queued(): number;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export function postfixAvailable(): boolean {
  return existsSync("/usr/sbin/postfix") && existsSync("/usr/sbin/sendmail") && process.getuid?.() === 0;
}

const MASTER_CF = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export async function startPostfix(opts: PostfixOptions): Promise<RunningPostfix> {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-postfix-"));
  chmodSync(dir, 0o755); // the postfix user must reach its queue below
  const etc = join(dir, "etc");
  const maildir = join(dir, "mail");
  mkdirSync(etc);
  mkdirSync(join(dir, "queue"), { mode: 0o755 });
  mkdirSync(maildir, { mode: 0o777 });
  chmodSync(maildir, 0o777);
  const ids = await run("id", ["-u", "postfix"]).then((r) => r.stdout.trim());
  const gid = await run("id", ["-g", "postfix"]).then((r) => r.stdout.trim());
  const main = [
    "compatibility_level = 3.6",
    `queue_directory = ${join(dir, "queue")}`,
    `data_directory = ${join(dir, "data")}`,
    `maillog_file = ${join(dir, "maillog")}`,
    `maillog_file_prefixes = ${dir}`,
    "mail_owner = postfix",
    "setgid_group = postdrop",
    "myhostname = pfx.e2e.test",
    "mydomain = e2e.test",
    "myorigin = $myhostname",
    "mydestination =",
    "inet_interfaces = loopback-only",
    "inet_protocols = ipv4",
    "mynetworks = 127.0.0.0/8",
    "smtp_tls_security_level = may",
    "smtpd_tls_security_level = none",
    "smtp_dns_support_level = disabled",
    "disable_dns_lookups = yes",
    "biff = no",
    "smtpd_recipient_restrictions = permit_mynetworks, reject",
    "smtpd_relay_restrictions = permit_mynetworks, reject",
    "default_destination_concurrency_limit = 20",
    "smtp_connection_cache_on_demand = yes",
    "local_recipient_maps =",
    "alias_maps =",
    "alias_database =",
    "queue_run_delay = 1s",
    "minimal_backoff_time = 1s",
    "maximal_backoff_time = 2s",
    "in_flow_delay = 0",
  ];
  if (opts.relayhost) main.push(`relayhost = ${opts.relayhost}`);
  if (opts.maildirDomain) {
    main.push(
      `virtual_mailbox_domains = ${opts.maildirDomain}`,
      `virtual_mailbox_base = ${maildir}`,
      `virtual_mailbox_maps = static:${opts.maildirDomain}/`,
      `virtual_uid_maps = static:${ids}`,
      `virtual_gid_maps = static:${gid}`,
      "virtual_destination_concurrency_limit = 50",
      "virtual_destination_recipient_limit = 1",
    );
  }
  mkdirSync(join(dir, "data"), { mode: 0o700 });
  await run("chown", [`${ids}:${gid}`, join(dir, "data")]);
  writeFileSync(join(etc, "main.cf"), `${main.join("\n")}\n`);
  let master = MASTER_CF;
  if (opts.listen) master += `127.0.0.1:${opts.listen} inet n - n - 200 smtpd\n`;
  writeFileSync(join(etc, "master.cf"), master);
  const env = { ...process.env, MAIL_CONFIG: etc };
  await run("postfix", ["-c", etc, "check"], { env });
  await run("postfix", ["-c", etc, "start"], { env });
  const queue = join(dir, "queue");
  return {
    dir,
    maildir: join(maildir, opts.maildirDomain ?? "none"),
    sendmail(from, to, message) {
      return new Promise((resolve, reject) => {
        const child = spawn("/usr/sbin/sendmail", ["-C", etc, "-i", "-f", from, to], {
          env,
          stdio: ["pipe", "ignore", "pipe"],
        });
        let err = "";
        child.stderr.on("data", (d: Buffer) => {
          err += d.toString();
        });
        child.once("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`sendmail exited ${code}: ${err}`)),
        );
        child.stdin.end(message);
      });
    },
    queued() {
      let n = 0;
      for (const q of ["maildrop", "incoming", "active", "deferred"]) {
        const walk = (p: string) => {
          if (!existsSync(p)) return;
          for (const e of readdirSync(p, { withFileTypes: true })) {
            if (e.isDirectory()) walk(join(p, e.name));
            else n++;
          }
        };
        walk(join(queue, q));
      }
      return n;
    },
    async log() {
      const file = join(dir, "maillog");
      return existsSync(file) ? (await import("node:fs/promises")).readFile(file, "utf8") : "";
    },
    async stop() {
      await run("postfix", ["-c", etc, "stop"], { env }).catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
