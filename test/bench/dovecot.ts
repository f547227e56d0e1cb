/**
 * A private Dovecot (Debian's dovecot-imapd) for comparisons: generated config, a passwd-file with
 * one user, Maildir storage under a temporary directory, plaintext IMAP on a loopback port.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface Dovecot {
  port: number;
  /** With `tls`: the self-signed certificate it serves (implicit TLS on `port`). */
  certFile: string | null;
  user: string;
  password: string;
  /** The user's Maildir (INBOX). */
  maildir: string;
  /** Adds messages to INBOX as Maildir files (before the first SELECT, or Dovecot picks them up later). */
  deliver(messages: Uint8Array[], flags?: (i: number) => string): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === "object" && a ? a.port : 0;
}

export function dovecotAvailable(): boolean {
  try {
    execFileSync("dovecot", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface DovecotOptions {
  maxConnections?: number;
  tls?: boolean;
  /** COMPRESS=DEFLATE (Dovecot's imap_zlib plugin) at this deflate level; absent: not offered. */
  compressLevel?: number;
}

export async function startDovecot(opts: DovecotOptions = {}): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), "mxedge-dovecot-"));
  // Dovecot's auth and login processes run as its own users and must read the config and passwd-file.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = "bob@example.test";
  const password = "dovecot-bench-password";
  const root = process.getuid?.() === 0;
  const me = userInfo();
  const mailRoot = join(dir, "mail");
  const maildir = join(mailRoot, user);
  for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(maildir, sub), { recursive: true });
  writeFileSync(join(dir, "passwd"), `${user}:{PLAIN}${password}::::::\n`);
  let certFile: string | null = null;
  let ssl = "ssl = no";
  let listener = `inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }`;
  if (opts.tls) {
    certFile = join(dir, "cert.pem");
    const keyFile = join(dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ],
      { stdio: "ignore" },
    );
    ssl = `ssl = yes\nssl_cert = <${certFile}\nssl_key = <${keyFile}`;
    listener = `inet_listener imap {\n    port = 0\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n    port = ${port}\n    ssl = yes\n  }`;
  }
  const owner = root ? "uid=nobody gid=nogroup" : `uid=${me.uid} gid=${me.gid}`;
  const internal = root
    ? ""
    : `default_internal_user = ${me.username}\ndefault_login_user = ${me.username}\n`;
  writeFileSync(
    join(dir, "dovecot.conf"),
    `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
${ssl}
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:${mailRoot}/%u
first_valid_uid = 1
${internal}passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = static
  args = ${owner} home=${mailRoot}/%u
}
service imap-login {
  chroot =
  ${listener}
  process_limit = ${opts.maxConnections ?? 1000}
  client_limit = ${opts.maxConnections ?? 1000}
}
service imap {
  process_limit = ${opts.maxConnections ?? 1000}
}
service anvil {
  chroot =
}
default_client_limit = ${Math.max(1000, opts.maxConnections ?? 0)}
default_vsz_limit = 1G
protocol imap {
  mail_max_userip_connections = ${opts.maxConnections ?? 1000}
${opts.compressLevel === undefined ? "" : "  mail_plugins = $mail_plugins zlib imap_zlib\n"}}
${opts.compressLevel === undefined ? "" : `plugin {\n  imap_zlib_compress_level = ${opts.compressLevel}\n}\n`}`,
  );
  const chown = () => {
    if (!root) return;
    execFileSync("chown", ["-R", "nobody:nogroup", mailRoot]);
  };
  chown();
  const conf = join(dir, "dovecot.conf");
  const child = spawn("dovecot", ["-F", "-c", conf], { stdio: "ignore" });
  // Wait for the listener.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`dovecot did not start; see ${dir}/dovecot.log`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let n = 0;
  return {
    port,
    certFile,
    user,
    password,
    maildir,
    deliver(messages, flags) {
      const t = Math.floor(Date.now() / 1000);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i] as Uint8Array;
        const f = flags?.(i) ?? "";
        const name = `${t}.M${++n}P${process.pid}.bench,S=${m.length}:2,${f}`;
        writeFileSync(join(maildir, "cur", name), m);
      }
      chown();
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
