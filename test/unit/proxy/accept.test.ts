import { once } from "node:events";
import type { Socket } from "node:net";
import { TLSSocket, connect as tlsConnect } from "node:tls";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AcceptResult } from "../../../relay/proxy/accept.ts";
import { acceptConnection } from "../../../relay/proxy/accept.ts";
import { encodeV2 } from "../../../relay/proxy/encode.ts";
import type { RefusalReason } from "../../../relay/proxy/metrics.ts";
import { proxyMetrics } from "../../../relay/proxy/metrics.ts";
import type { ProxyPolicy } from "../../../relay/proxy/policy.ts";
import { emptyTlvs } from "../../../relay/proxy/types.ts";
import { CidrError } from "../../../src/net/cidr.ts";
import { hex, V2_SIG_HEX } from "./helpers.ts";
import type { TestServer } from "./sockets.ts";
import { closed, connectFrom, readAll, sleep, startServer } from "./sockets.ts";
import { TEST_CERT, TEST_KEY } from "./tls-fixture.ts";

const EHLO = "EHLO x\r\n";
const V1 = "PROXY TCP4 203.0.113.7 198.51.100.1 51000 25\r\n";
const trusted: ProxyPolicy = { trusted: ["127.0.0.5/32"], timeoutMs: 200 };
const withDirect: ProxyPolicy = { ...trusted, allowDirect: true };
const plain = { mode: "none" } as const;

function v2(tlvs = emptyTlvs(), command: "proxy" | "local" = "proxy"): Buffer {
  const header = encodeV2({
    command,
    family: command === "local" ? "unspec" : "tcp4",
    source: command === "local" ? null : { address: "203.0.113.7", port: 51000 },
    destination: command === "local" ? null : { address: "198.51.100.1", port: 465 },
    tlvs,
  });
  return Buffer.from(header);
}

function refused(reason: RefusalReason): number {
  return proxyMetrics.refused[reason];
}

function info(result: AcceptResult) {
  if (!result.ok) throw new Error(`refused: ${result.reason} (${result.detail})`);
  return result.info;
}

let server: TestServer;
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await server.close();
});

/** Connects (from 127.0.0.5 unless told), lets the client act, and accepts on the server side. */
async function accept(
  policy: ProxyPolicy | null,
  clientAct: (client: Socket) => void,
  options: { from?: string; tls?: { mode: "none" | "implicit" | "proxy"; assumeTls?: boolean } } = {},
) {
  const client = await connectFrom(server.port, options.from ?? "127.0.0.5");
  const socket = await server.nextSocket();
  clientAct(client);
  const result = await acceptConnection(socket, policy, options.tls ?? plain);
  return { client, socket, result };
}

describe("trusted proxy", () => {
  it("v1 header and EHLO in one write: addresses from the header, the next layer reads exactly EHLO", async () => {
    const { client, socket, result } = await accept(trusted, (c) => c.end(V1 + EHLO));
    expect(info(result)).toEqual({
      client: { address: "203.0.113.7", port: 51000 },
      server: { address: "198.51.100.1", port: 25 },
      proxy: { address: "127.0.0.5", port: client.localPort },
      proxyVersion: 1,
      tls: null,
      authority: null,
      uniqueId: null,
      alpn: null,
    });
    expect(await readAll(socket)).toBe(EHLO);
  });

  it("v2 header with TLVs and EHLO in one write", async () => {
    const tlvs = { ...emptyTlvs(), authority: "mx.example", uniqueId: "00ff", alpn: "smtp", crc32c: 0 };
    const { socket, result } = await accept(trusted, (c) =>
      c.end(Buffer.concat([v2(tlvs), Buffer.from(EHLO)])),
    );
    expect(info(result)).toMatchObject({
      client: { address: "203.0.113.7", port: 51000 },
      server: { address: "198.51.100.1", port: 465 },
      proxyVersion: 2,
      tls: null,
      authority: "mx.example",
      uniqueId: "00ff",
      alpn: "smtp",
    });
    expect(await readAll(socket)).toBe(EHLO);
  });

  it("header dribbled byte by byte, next layer attaching late: nothing lost, listeners removed", async () => {
    const client = await connectFrom(server.port);
    const socket = await server.nextSocket();
    const before = ["readable", "data", "end", "close", "error"].map((e) => socket.listenerCount(e));
    const accepting = acceptConnection(socket, trusted, plain);
    const bytes = Buffer.from(V1 + EHLO);
    for (let i = 0; i < bytes.length; i += 7) {
      client.write(bytes.subarray(i, i + 7));
      await sleep(2);
    }
    client.end("QUIT\r\n");
    expect(info(await accepting).proxyVersion).toBe(1);
    expect(["readable", "data", "end", "close", "error"].map((e) => socket.listenerCount(e))).toEqual(before);
    await sleep(50);
    expect(await readAll(socket)).toBe(`${EHLO}QUIT\r\n`);
  });

  it("LOCAL: the socket's own addresses, proxy null, proxyVersion 2", async () => {
    const { client, socket, result } = await accept(trusted, (c) =>
      c.end(Buffer.concat([v2(undefined, "local")])),
    );
    expect(info(result)).toEqual({
      client: { address: "127.0.0.5", port: client.localPort },
      server: { address: "127.0.0.1", port: server.port },
      proxy: null,
      proxyVersion: 2,
      tls: null,
      authority: null,
      uniqueId: null,
      alpn: null,
    });
    expect(await readAll(socket)).toBe("");
  });

  it("proxy-terminated TLS: SSL TLV with PP2_CLIENT_SSL → tls.terminatedBy proxy", async () => {
    const ssl = {
      client: 0x03,
      verify: 0,
      version: "TLSv1.3",
      cn: "alice",
      cipher: "TLS_AES_256_GCM_SHA384",
      sigAlg: null,
      keyAlg: null,
      unknown: [],
    };
    const tlvs = { ...emptyTlvs(), authority: "mail.example", ssl };
    const { result } = await accept(trusted, (c) => c.write(v2(tlvs)), { tls: { mode: "proxy" } });
    expect(info(result).tls).toEqual({
      terminatedBy: "proxy",
      version: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
      sni: "mail.example",
      clientCertCn: "alice",
      clientCertVerified: true,
    });
  });

  it("assumeTls makes a v1 session TLS; without it the session is plain", async () => {
    const assumed = await accept(trusted, (c) => c.write(V1), { tls: { mode: "proxy", assumeTls: true } });
    expect(info(assumed.result).tls).toMatchObject({ terminatedBy: "proxy", version: null, sni: null });
    const notAssumed = await accept(trusted, (c) => c.write(V1), { tls: { mode: "proxy" } });
    expect(info(notAssumed.result).tls).toBeNull();
  });

  it("implicit TLS behind the proxy: the ClientHello after the header reaches the TLS layer", async () => {
    const client = await connectFrom(server.port);
    const socket = await server.nextSocket();
    client.write(v2());
    const tlsClient = tlsConnect({ socket: client, rejectUnauthorized: false, servername: "localhost" });
    const result = await acceptConnection(socket, trusted, { mode: "implicit" });
    expect(info(result)).toMatchObject({ client: { address: "203.0.113.7" }, tls: null });
    const tlsServer = new TLSSocket(socket, { isServer: true, key: TEST_KEY, cert: TEST_CERT });
    tlsServer.on("data", (chunk: Buffer) => tlsServer.end(`echo ${chunk.toString()}`));
    await once(tlsClient, "secureConnect");
    tlsClient.write("hello");
    const [reply] = (await once(tlsClient, "data")) as [Buffer];
    expect(reply.toString()).toBe("echo hello");
    tlsClient.destroy();
  });

  it("an IPv4-mapped peer matches an IPv4 CIDR and is reported as IPv4", async () => {
    const dual = await startServer("::");
    try {
      const client = await connectFrom(dual.port, "127.0.0.5", "127.0.0.1");
      const socket = await dual.nextSocket();
      expect(socket.remoteAddress).toBe("::ffff:127.0.0.5");
      client.end(V1 + EHLO);
      const result = await acceptConnection(socket, { trusted: ["127.0.0.0/29"] }, plain);
      expect(info(result).proxy).toEqual({ address: "127.0.0.5", port: client.localPort });
      expect(await readAll(socket)).toBe(EHLO);
      const local = await connectFrom(dual.port, "127.0.0.5", "127.0.0.1");
      const localSocket = await dual.nextSocket();
      local.end(v2(undefined, "local"));
      const localInfo = info(await acceptConnection(localSocket, { trusted: ["127.0.0.5"] }, plain));
      expect(localInfo.client.address).toBe("127.0.0.5");
      expect(localInfo.server.address).toBe("127.0.0.1");
    } finally {
      await dual.close();
    }
  });
});

describe("refusals", () => {
  it("a header from an untrusted peer is refused without reading", async () => {
    const before = refused("untrusted");
    const { client, result } = await accept(trusted, (c) => c.write(V1 + EHLO), { from: "127.0.0.1" });
    expect(result).toMatchObject({ ok: false, reason: "untrusted" });
    expect(refused("untrusted")).toBe(before + 1);
    await closed(client);
  });

  it("silence from a trusted peer → timeout", async () => {
    const before = refused("timeout");
    const started = Date.now();
    const { client, result } = await accept(trusted, () => {});
    expect(result).toMatchObject({ ok: false, reason: "timeout" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(refused("timeout")).toBe(before + 1);
    await closed(client);
  });

  it("PROXY followed by a stall → timeout", async () => {
    const { result } = await accept(trusted, (c) => c.write("PROXY"));
    expect(result).toMatchObject({ ok: false, reason: "timeout" });
  });

  it("a malformed header is refused at once", async () => {
    const before = refused("invalid-header");
    const started = Date.now();
    const { result } = await accept(trusted, (c) => c.write("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"));
    expect(result).toMatchObject({
      ok: false,
      reason: "invalid-header",
      detail: expect.stringMatching(/IPv4/),
    });
    expect(Date.now() - started).toBeLessThan(150);
    expect(refused("invalid-header")).toBe(before + 1);
  });

  it("a direct client talking to a proxy-only listener is refused as an invalid header", async () => {
    const { result } = await accept(trusted, (c) => c.write(EHLO));
    expect(result).toMatchObject({ ok: false, reason: "invalid-header" });
  });

  it("a header over maxHeaderBytes is refused once its length is known", async () => {
    const big = hex(`${V2_SIG_HEX} 21 11 0100`);
    const { result } = await accept({ ...trusted, maxHeaderBytes: 64 }, (c) => c.write(big));
    expect(result).toMatchObject({
      ok: false,
      reason: "invalid-header",
      detail: expect.stringMatching(/64-byte/),
    });
  });

  it("a peer closing mid-header → closed", async () => {
    const { result } = await accept(trusted, (c) => c.end("PROXY TCP4 1.2"));
    expect(result).toMatchObject({ ok: false, reason: "closed" });
  });

  it("an invalid policy rejects", async () => {
    const client = await connectFrom(server.port);
    const socket = await server.nextSocket();
    await expect(acceptConnection(socket, { trusted: ["10.0.0.1/8"] }, plain)).rejects.toThrow(CidrError);
    client.destroy();
  });
});

describe("no PROXY support (policy null)", () => {
  it("serves direct at once and leaves a PROXY header for the protocol layer", async () => {
    const { client, socket, result } = await accept(null, (c) => c.end(V1 + EHLO));
    expect(info(result)).toEqual({
      client: { address: "127.0.0.5", port: client.localPort },
      server: { address: "127.0.0.1", port: server.port },
      proxy: null,
      proxyVersion: null,
      tls: null,
      authority: null,
      uniqueId: null,
      alpn: null,
    });
    expect(await readAll(socket)).toBe(V1 + EHLO);
  });
});

describe("allowDirect, untrusted peer", () => {
  it("resolves before the client says anything (server speaks first), then EHLO flows", async () => {
    const client = await connectFrom(server.port, "127.0.0.1");
    const socket = await server.nextSocket();
    const result = await acceptConnection(socket, withDirect, plain);
    expect(info(result)).toMatchObject({ client: { address: "127.0.0.1" }, proxy: null, proxyVersion: null });
    const reading = readAll(socket);
    socket.write("220 banner\r\n");
    await once(client, "data");
    client.end(EHLO);
    expect(await reading).toBe(EHLO);
  });

  it("EHLO sent before the next layer reads is delivered intact", async () => {
    const { socket, result } = await accept(withDirect, (c) => c.end(EHLO), { from: "127.0.0.1" });
    expect(info(result).proxy).toBeNull();
    await sleep(30);
    expect(await readAll(socket)).toBe(EHLO);
  });

  it("a PROXY signature as first bytes gets the connection destroyed and counted", async () => {
    for (const send of [[V1], [hex(V2_SIG_HEX).subarray(0, 5), hex(V2_SIG_HEX).subarray(5)]]) {
      const before = refused("unexpected-header");
      const client = await connectFrom(server.port, "127.0.0.1");
      const socket = await server.nextSocket();
      const late: string[] = [];
      const result = await acceptConnection(socket, withDirect, plain, {
        onLateRefusal: (reason) => late.push(reason),
      });
      expect(result.ok).toBe(true);
      socket.on("data", () => {});
      socket.on("error", () => {});
      for (const part of send) {
        client.write(part);
        await sleep(20);
      }
      await closed(client);
      expect(socket.destroyed).toBe(true);
      expect(late).toEqual(["unexpected-header"]);
      expect(refused("unexpected-header")).toBe(before + 1);
    }
  });

  it("implicit TLS: the first bytes are peeked and put back; a real handshake works", async () => {
    const client = await connectFrom(server.port, "127.0.0.1");
    const socket = await server.nextSocket();
    const tlsClient = tlsConnect({ socket: client, rejectUnauthorized: false, servername: "localhost" });
    const result = await acceptConnection(socket, withDirect, { mode: "implicit" });
    expect(info(result)).toMatchObject({ client: { address: "127.0.0.1" }, proxyVersion: null, tls: null });
    const tlsServer = new TLSSocket(socket, { isServer: true, key: TEST_KEY, cert: TEST_CERT });
    tlsServer.on("data", (chunk: Buffer) => tlsServer.end(`echo ${chunk.toString()}`));
    await once(tlsClient, "secureConnect");
    tlsClient.write("hi");
    const [reply] = (await once(tlsClient, "data")) as [Buffer];
    expect(reply.toString()).toBe("echo hi");
    tlsClient.destroy();
  });

  it("implicit TLS: a PROXY signature is refused before resolving", async () => {
    const { result } = await accept(withDirect, (c) => c.write(v2()), {
      from: "127.0.0.1",
      tls: { mode: "implicit" },
    });
    expect(result).toMatchObject({ ok: false, reason: "unexpected-header" });
  });

  it("implicit TLS: silence → timeout", async () => {
    const { result } = await accept(withDirect, () => {}, { from: "127.0.0.1", tls: { mode: "implicit" } });
    expect(result).toMatchObject({ ok: false, reason: "timeout" });
  });

  it("a trusted peer must still send a header", async () => {
    const { result } = await accept(withDirect, (c) => c.write(EHLO));
    expect(result).toMatchObject({ ok: false, reason: "invalid-header" });
  });
});
