/** Real third-party programs the interop tests start. Under CI=true a missing one fails the run. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createConnection } from "node:net";

export function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** True when the test should run; throws under CI when the tool is missing (never a silent skip). */
export function requireTools(...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  if (process.env.CI === "true")
    throw new Error(`missing required tool(s) under CI: ${missing.join(", ")} (see .ci/apt.sh)`);
  console.warn(`skipping: ${missing.join(", ")} not installed (run .ci/apt.sh)`);
  return false;
}

/**
 * Python modules a test imports (`<python> -c "import …"`), checked like requireTools: a machine can have
 * a command such as dkimsign from one Python and run the tests' scripts with another that lacks the module
 * (a pyenv `python3` first on PATH, say). `hint` names what installs them.
 */
export function requirePythonModules(modules: string[], hint: string, python = "python3"): boolean {
  const missing = modules.filter((m) => {
    try {
      execFileSync(python, ["-c", `import ${m}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  const what = `${python} module(s) ${missing.join(", ")}`;
  if (process.env.CI === "true") throw new Error(`missing required ${what} under CI (${hint})`);
  console.warn(`skipping: ${what} not installed (${hint})`);
  return false;
}

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Daemon {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startDaemon(cmd: string, args: string[]): Daemon {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
