/**
 * Durability under edge faults: a real `mxedge relay --edge URL` talks to a real edge (the HTTP relay
 * API of an embedded `mxedge serve`) through a fault-injecting HTTP proxy written here. In every fault
 * the SMTP client gets 451 4.3.0, and re-sending the same message (a NEW SMTP transaction, as an MTA's
 * retry is) leaves exactly one stored copy — also when the edge had committed the first attempt and only
 * the answer was lost (see src/pipeline/idempotency.ts).
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningMxedge } from "./harness.ts";
import { freePort } from "./harness.ts";
import { listMessages, startWithUser, USER } from "./smtp-fixtures.ts";
import { openSession, type Reply } from "./smtp-raw.ts";
import { type RunningRelay, startRelay } from "./smtp-relay-process.ts";

type Mode =
  | "pass"
  | "kill-mid-data"
  | "hang"
  | "hang-after-commit"
  | "500"
  | "close-early"
  | "commit-then-drop";

let mx: RunningMxedge;
let relay: RunningRelay;
let proxy: Server;
let mode: Mode = "pass";
let proxyPort = 0;
let relaySecret = "";
const held: ServerResponse[] = [];

const HOP = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; body: string }> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers))
    if (!HOP.has(k) && typeof v === "string") headers.set(k, v);
  const res = await fetch(`http://127.0.0.1:${mx.ports.http}${req.url}`, {
    method: req.method,
    headers,
    body: req.method === "GET" ? undefined : body,
  });
  return { status: res.status, body: await res.text() };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const isIngest = req.url === "/relay/v1/messages";
  const m = isIngest ? mode : "pass";
  if (m === "kill-mid-data") {
    let seen = 0;
    req.on("data", (c: Buffer) => {
      seen += c.length;
      if (seen > 32 * 1024) req.socket.destroy();
    });
    return;
  }
  if (m === "close-early") {
    req.once("data", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "200" });
      res.write('{"stored":tr');
      setTimeout(() => req.socket.destroy(), 20);
    });
    return;
  }
  const body = await readBody(req);
  if (m === "hang") {
    held.push(res);
    return;
  }
  if (m === "500") {
    res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
    return;
  }
  const answer = await forward(req, body);
  if (m === "hang-after-commit") {
    held.push(res);
    return;
  }
  if (m === "commit-then-drop") {
    req.socket.destroy();
    return;
  }
  res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
}

function message(tag: string, size = 200 * 1024): string {
  const line = `${"x".repeat(76)}\r\n`;
  return (
    `From: sender@sender.test\r\nTo: ${USER}\r\nSubject: fault ${tag}\r\nMessage-ID: <fault.${tag}@sender.test>\r\n\r\n` +
    line.repeat(Math.ceil(size / line.length))
  );
}

/** One full SMTP transaction on a new connection; returns the reply to the end of DATA. */
async function send(tag: string): Promise<Reply | null> {
  const c = await openSession(relay.smtp);
  try {
    c.write(`MAIL FROM:<sender@sender.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`);
    const tail = () => relay.output().split("\n").slice(-8).join("\n");
    expect((await c.reply())?.code, tail()).toBe(250);
    expect((await c.reply())?.code, tail()).toBe(250);
    expect((await c.reply())?.code, tail()).toBe(354);
    c.write(`${message(tag)}.\r\n`);
    return await c.reply(20_000);
  } finally {
    c.close();
  }
}

async function copies(tag: string): Promise<number> {
  return (await listMessages(mx)).filter((m) => m.messageId === `<fault.${tag}@sender.test>`).length;
}

beforeAll(async () => {
  mx = await startWithUser();
  const secrets = JSON.parse(readFileSync(join(mx.dataDir, "secrets.json"), "utf8")) as {
    relaySecret: string;
  };
  const port = await freePort();
  proxyPort = port;
  relaySecret = secrets.relaySecret;
  proxy = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", r));
  relay = await startRelay({
    edgeUrl: `http://127.0.0.1:${port}`,
    secret: secrets.relaySecret,
    toml: "[edge]\ntimeoutMs = 2500\n", // short, for the hang cases; loaded CI machines need > 1 s
  });
});

afterAll(async () => {
  for (const r of held) r.destroy();
  await relay?.stop();
  await new Promise((r) => proxy?.close(r));
  await mx?.stop();
});

describe("edge faults → 451, and a retry stores exactly one copy", () => {
  it("works end to end when nothing fails", async () => {
    mode = "pass";
    expect((await send("pass"))?.text).toMatch(/^250 2\.0\.0 OK: queued as /);
    expect(await copies("pass")).toBe(1);
  });

  it.each<Mode>(["kill-mid-data", "hang", "500", "close-early", "commit-then-drop", "hang-after-commit"])(
    "%s",
    async (fault) => {
      mode = fault;
      const first = await send(fault);
      expect(first?.text).toMatch(/^451 4\.3\.0 /);
      mode = "pass";
      const retry = await send(fault);
      expect(retry?.text).toMatch(/^250 2\.0\.0 OK: queued as /);
      expect(await copies(fault)).toBe(1);
      // A second retry (say the 250 was lost too) still stores nothing new.
      expect((await send(fault))?.code).toBe(250);
      expect(await copies(fault)).toBe(1);
    },
  );

  it("logs every temporary failure with its reason", () => {
    const refused = relay
      .output()
      .split("\n")
      .filter((l) => l.includes('"smtp.data.refused"') || l.includes('"smtp.data.stream-failed"'));
    expect(refused.length).toBeGreaterThanOrEqual(6);
    for (const l of refused) expect(JSON.parse(l)).toMatchObject({ code: 451, reason: expect.any(String) });
    expect(refused.some((l) => l.includes("edge timeout"))).toBe(true);
    expect(refused.some((l) => l.includes("edge answered 500"))).toBe(true);
  });

  it("stores nothing when the relay's size limit is below the edge's (552)", async () => {
    mode = "pass";
    const small = await startRelay({
      edgeUrl: `http://127.0.0.1:${proxyPort}`,
      secret: relaySecret,
      toml: "[limits]\nmaxMessageBytes = 65536\n",
    });
    try {
      const c = await openSession(small.smtp);
      c.write(`MAIL FROM:<sender@sender.test>\r\nRCPT TO:<${USER}>\r\nDATA\r\n`);
      for (const code of [250, 250, 354]) expect((await c.reply())?.code).toBe(code);
      c.write(`${message("too-big")}.\r\n`);
      expect((await c.reply())?.code).toBe(552);
      c.close();
      expect(await copies("too-big")).toBe(0);
    } finally {
      await small.stop();
    }
  });

  it("answers 451 when the edge is unreachable", async () => {
    const port = await freePort(); // nothing listens here
    const lonely = await startRelay({ edgeUrl: `http://127.0.0.1:${port}`, secret: "x".repeat(32) });
    try {
      const c = await openSession(lonely.smtp);
      c.write(`MAIL FROM:<sender@sender.test>\r\nRCPT TO:<${USER}>\r\n`);
      expect((await c.reply())?.code).toBe(250);
      expect((await c.reply())?.text).toMatch(/^451 4\.3\.0 /); // RCPT check cannot reach the edge
      c.close();
    } finally {
      await lonely.stop();
    }
  });
});
