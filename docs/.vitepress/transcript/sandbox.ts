/**
 * A fresh clone of this repository and one bash session in it, for running documented commands exactly
 * as written: the README's quick start (test/e2e/readme-quickstart.test.ts) and the tour's transcripts
 * (tour.ts). Where `unshare -n` works (root, as in CI), the session has a network namespace of its own:
 * the default ports (2525, 8787, …) are free whatever else runs on the machine, and nothing reaches the
 * network, so a lookup for the system resolver fails at once instead of leaving the machine.
 *
 * node_modules is a symlink to the checkout's instead of a network `npm ci` in the clone (same lockfile,
 * already installed); everything else comes from git.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export interface Clone {
  dir: string;
  remove(): void;
}

/**
 * `git clone` of this checkout, at the working tree's state: `git stash create` captures uncommitted
 * changes to tracked files (without touching the checkout), so a test sees the README being edited.
 */
export function freshClone(): Clone {
  const base = mkdtempSync(join(tmpdir(), "mxedge-clone-"));
  const dir = join(base, "mxedge");
  const git = (args: string[], cwd = REPO) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
  git(["clone", "--quiet", "--no-hardlinks", REPO, dir]);
  let snapshot = "";
  try {
    snapshot = git(["stash", "create"]);
  } catch {}
  if (snapshot) {
    git(["fetch", "--quiet", REPO, snapshot], dir);
    git(["checkout", "--quiet", "--detach", snapshot], dir);
  }
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(base, { recursive: true, force: true }) };
}

function canUnshare(): boolean {
  try {
    execFileSync("unshare", ["-n", "sh", "-c", "ip link set lo up"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface Step {
  code: number;
  output: string;
}

/** One bash session; commands run one after another, as typed into a terminal. */
export class Session {
  readonly isolated: boolean;
  readonly #child: ChildProcess;
  #buffer = "";
  #waiters: Array<() => void> = [];
  #n = 0;

  /**
   * `env` is the session's environment, less MXEDGE_LOG (as in a new terminal). Without a network
   * namespace of its own, MXEDGE_DNS_ZONE names an empty zone so that no lookup leaves the machine.
   */
  constructor(cwd: string, env: Record<string, string | undefined> = process.env) {
    this.isolated = canUnshare();
    env = { ...env, MXEDGE_LOG: undefined };
    if (!this.isolated) {
      const zone = join(cwd, "..", "empty.zone");
      writeFileSync(zone, "");
      env.MXEDGE_DNS_ZONE = zone;
    }
    const bash = ["bash", "--norc", "--noprofile"];
    const [cmd, ...args] = this.isolated ? ["unshare", "-n", ...bash] : bash;
    // Its own process group, so stop() ends the session with everything it started (npm start included).
    this.#child = spawn(cmd as string, args, {
      cwd,
      env: { ...env, PATH: `${dirname(process.execPath)}:${env.PATH ?? process.env.PATH}` },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const take = (d: Buffer) => {
      this.#buffer += d.toString();
      for (const w of this.#waiters.splice(0)) w();
    };
    this.#child.stdout?.on("data", take);
    this.#child.stderr?.on("data", take);
    this.#child.on("exit", () => {
      for (const w of this.#waiters.splice(0)) w();
    });
    this.#child.stdin?.write("exec 2>&1\n");
    if (this.isolated) this.#child.stdin?.write("ip link set lo up\n");
  }

  /** Runs `script` (any shell text, heredocs included) and returns its exit code and output. */
  async run(script: string, timeoutMs = 120_000): Promise<Step> {
    const mark = `__mxedge_step_${++this.#n}_done__`;
    const file = join(tmpdir(), `${mark}${process.pid}.sh`);
    writeFileSync(file, `${script}\n`);
    this.#child.stdin?.write(`bash ${JSON.stringify(file)}; echo "${mark}$?"\n`);
    const until = Date.now() + timeoutMs;
    try {
      for (;;) {
        const at = this.#buffer.indexOf(mark);
        if (at >= 0) {
          const end = this.#buffer.indexOf("\n", at);
          if (end >= 0) {
            const output = this.#buffer.slice(0, at);
            const code = Number(this.#buffer.slice(at + mark.length, end));
            this.#buffer = this.#buffer.slice(end + 1);
            return { code, output };
          }
        }
        if (this.#child.exitCode !== null) throw new Error(`the shell exited:\n${this.#buffer}`);
        if (Date.now() > until)
          throw new Error(`timed out after ${timeoutMs} ms:\n${script}\n${this.#buffer}`);
        await new Promise<void>((r) => {
          this.#waiters.push(r);
          setTimeout(r, 250);
        });
      }
    } finally {
      rmSync(file, { force: true });
    }
  }

  /**
   * Starts a long-running command in the background (`npm start`), its output in `logFile`, and waits
   * until a line of it matches `ready`. Returns that output.
   */
  async background(command: string, logFile: string, ready: RegExp, timeoutMs = 60_000): Promise<string> {
    const started = await this.run(
      `${command} > ${JSON.stringify(logFile)} 2>&1 &\necho $! > ${JSON.stringify(`${logFile}.pid`)}`,
    );
    if (started.code !== 0) throw new Error(`could not start ${command}: ${started.output}`);
    const until = Date.now() + timeoutMs;
    for (;;) {
      let text = "";
      try {
        text = readFileSync(logFile, "utf8");
      } catch {}
      if (ready.test(text)) return text;
      const alive = await this.run(`kill -0 $(cat ${JSON.stringify(`${logFile}.pid`)}) 2>/dev/null`);
      if (alive.code !== 0) throw new Error(`${command} exited before it was ready:\n${text}`);
      if (Date.now() > until) throw new Error(`${command} not ready after ${timeoutMs} ms:\n${text}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Ends the session and every process it started (its process group). */
  async stop(): Promise<void> {
    const pid = this.#child.pid;
    if (pid === undefined || this.#child.exitCode !== null) return;
    const exited = new Promise((r) => this.#child.once("exit", r));
    try {
      process.kill(-pid, "SIGTERM");
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
}
