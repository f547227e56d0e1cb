/** Shared set-up for the SMTP e2e tests: an mxedge with one domain and one user, and store inspection. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { type RunningMxedge, type StartOptions, startMxedge } from "./harness.ts";

export const DOMAIN = "example.test";
export const USER = "someone@example.test";
export const PASSWORD = "s3cret-passw0rd";

export interface Listed {
  messages: Array<{ id: string; subject: string | null; messageId: string | null; rcptTo: string[] }>;
}

/** Starts mxedge (optionally with a TOML config) and adds example.test with someone@example.test. */
export async function startWithUser(opts: StartOptions & { toml?: string } = {}): Promise<RunningMxedge> {
  const args = [...(opts.args ?? [])];
  if (opts.toml !== undefined) {
    const path = join(process.env.TMPDIR ?? "/tmp", `mxedge-e2e-${process.pid}-${Date.now()}.toml`);
    writeFileSync(path, opts.toml);
    args.push("--config", path);
  }
  const mx = await startMxedge({ ...opts, args });
  const d = await mx.cli(["domain", "add", DOMAIN]);
  expect(d, d.stderr).toMatchObject({ code: 0 });
  const u = await mx.cli(["user", "add", USER, "--password-stdin"], `${PASSWORD}\n`);
  expect(u, u.stderr).toMatchObject({ code: 0 });
  return mx;
}

export async function listMessages(mx: RunningMxedge): Promise<Listed["messages"]> {
  const { status, body } = await mx.api<Listed>("/api/messages?limit=500");
  expect(status).toBe(200);
  return body.messages;
}

/** Every stored message's raw bytes (as latin1 text). */
export async function rawMessages(mx: RunningMxedge): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of await listMessages(mx)) {
    const res = await fetch(`http://127.0.0.1:${mx.ports.http}/api/messages/${m.id}/raw`, {
      headers: { authorization: `Bearer ${mx.adminToken}` },
    });
    out.set(m.id, Buffer.from(await res.arrayBuffer()).toString("latin1"));
  }
  return out;
}

export const BARE_CR_OR_LF = /\r(?!\n)|(?<!\r)\n/;
