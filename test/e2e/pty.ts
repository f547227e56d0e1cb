/**
 * A full-screen terminal program under a pseudo-terminal (test/e2e/pty-driver.py), driven like a user:
 * send keys, wait for text on its screen.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { ROOT } from "./harness.ts";

export interface PtyReply {
  ok: boolean;
  /** The screen now, rows joined by newlines. */
  screen: string;
  /** Rows shown for the first time since the previous reply, including ones painted over since. */
  rows: string[];
  /** exit(): the program's exit code, null if it did not end in time. */
  code?: number | null;
}

export interface Pty {
  /**
   * Sends keys; with `wait` (a Python regular expression, re.M, matched against the screen), resolves
   * once the screen matches and throws, with the screen, when it never does.
   */
  keys(keys: string, wait?: string, timeoutSeconds?: number): Promise<PtyReply>;
  /** Waits for the program to end. */
  exit(timeoutSeconds?: number): Promise<PtyReply>;
  kill(): void;
}

export function startPty(argv: string[], env: NodeJS.ProcessEnv, cols = 100, rows = 30): Pty {
  const child: ChildProcess = spawn(
    "python3",
    [`${ROOT}test/e2e/pty-driver.py`, String(cols), String(rows), "--", ...argv],
    { env, stdio: ["pipe", "pipe", "inherit"] },
  );
  const { stdout, stdin } = child;
  if (!stdout || !stdin) throw new Error("pty driver without pipes");
  const replies: Array<(r: PtyReply) => void> = [];
  const ended = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  createInterface({ input: stdout }).on("line", (line) => replies.shift()?.(JSON.parse(line)));
  const ask = (cmd: object) =>
    new Promise<PtyReply>((resolve, reject) => {
      replies.push(resolve);
      stdin.write(`${JSON.stringify(cmd)}\n`);
      void ended.then(() => reject(new Error(`pty driver exited (${child.exitCode})`)));
    });
  return {
    async keys(keys, wait, timeoutSeconds = 20) {
      const r = await ask(
        wait === undefined ? { send: keys } : { send: keys, wait, timeout: timeoutSeconds },
      );
      if (!r.ok)
        throw new Error(`screen never showed /${wait}/ after keys ${JSON.stringify(keys)}:\n${r.screen}`);
      return r;
    },
    exit: (timeoutSeconds = 20) => ask({ exit: timeoutSeconds }),
    kill: () => child.kill("SIGKILL"),
  };
}
