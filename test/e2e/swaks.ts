/** swaks (Debian package) as the SMTP client: sends a file as the whole DATA and reports the DATA reply. */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "mxedge-swaks-"));
let n = 0;

export interface SwaksResult {
  /** The reply to DATA (or to the command that failed first). */
  code: number;
  line: string;
  transcript: string;
}

export async function swaks(opts: {
  port: number;
  from: string;
  to: string;
  message: Uint8Array | string;
  helo?: string;
}): Promise<SwaksResult> {
  const file = join(dir, `msg-${process.pid}-${++n}.eml`);
  writeFileSync(file, opts.message);
  const r = await run(
    "swaks",
    [
      "--server",
      `127.0.0.1:${opts.port}`,
      "--from",
      opts.from,
      "--to",
      opts.to,
      "--helo",
      opts.helo ?? "mail.sender.test",
      "--data",
      `@${file}`,
      "--hide-informational",
    ],
    { timeout: 60_000 },
  ).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
  const replies = r.stdout.split("\n").filter((l) => /^<[-~*]+\s+\d{3} /.test(l));
  // The last reply is QUIT's 221 when the session got that far; the one before it answers DATA.
  const last = replies.at(-1) ?? "";
  const line = / 221 /.test(last) ? (replies.at(-2) ?? "") : last;
  return { code: Number(/^<[-~*]+\s+(\d{3}) /.exec(line)?.[1]), line, transcript: r.stdout };
}
