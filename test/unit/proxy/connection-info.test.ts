import { describe, expect, it } from "vitest";
import { connectionFromHeader, proxyTlsState } from "../../../relay/proxy/connection-info.ts";
import type { ProxyHeader, SslTlv } from "../../../relay/proxy/types.ts";
import { emptyTlvs } from "../../../relay/proxy/types.ts";

const peer = { address: "10.0.0.5", port: 40000 };
const local = { address: "10.0.0.1", port: 25 };

function ssl(client: number, verify = 0): SslTlv {
  return {
    client,
    verify,
    version: "TLSv1.3",
    cn: "client.example",
    cipher: "TLS_AES_128_GCM_SHA256",
    sigAlg: null,
    keyAlg: null,
    unknown: [],
  };
}

function header(sslTlv: SslTlv | null, authority: string | null = "mx.example"): ProxyHeader {
  return {
    version: 2,
    command: "proxy",
    family: "tcp4",
    source: { address: "203.0.113.7", port: 51000 },
    destination: { address: "198.51.100.1", port: 465 },
    tlvs: { ...emptyTlvs(), authority, alpn: "smtp", uniqueId: "abcd", ssl: sslTlv },
  };
}

describe("connectionFromHeader", () => {
  it("takes client and server from the header and the socket peer as the proxy", () => {
    expect(connectionFromHeader(header(null), peer, local, { mode: "none" })).toEqual({
      client: { address: "203.0.113.7", port: 51000 },
      server: { address: "198.51.100.1", port: 465 },
      proxy: peer,
      proxyVersion: 2,
      tls: null,
      authority: "mx.example",
      uniqueId: "abcd",
      alpn: "smtp",
    });
  });

  it.each([
    ["v2 LOCAL", { command: "local", family: "unspec" }],
    ["v1 UNKNOWN", { version: 1, family: "unspec" }],
    ["v2 AF_UNIX", { family: "unix-stream" }],
  ] as const)("%s: socket endpoints, proxy null, proxyVersion kept", (_name, patch) => {
    const h: ProxyHeader = {
      ...header(null, null),
      ...patch,
      source: null,
      destination: null,
      tlvs: emptyTlvs(),
    };
    expect(connectionFromHeader(h, peer, local, { mode: "none" })).toMatchObject({
      client: peer,
      server: local,
      proxy: null,
      proxyVersion: h.version,
      tls: null,
    });
  });
});

describe("proxyTlsState", () => {
  it("is null unless the listener's TLS mode is proxy", () => {
    expect(proxyTlsState(header(ssl(1)), { mode: "none" })).toBeNull();
    expect(proxyTlsState(header(ssl(1)), { mode: "implicit", assumeTls: true })).toBeNull();
  });

  it("needs PP2_CLIENT_SSL or assumeTls", () => {
    expect(proxyTlsState(header(null), { mode: "proxy" })).toBeNull();
    expect(proxyTlsState(header(ssl(0x06)), { mode: "proxy" })).toBeNull();
    expect(proxyTlsState(header(ssl(0x01)), { mode: "proxy" })).toEqual({
      terminatedBy: "proxy",
      version: "TLSv1.3",
      cipher: "TLS_AES_128_GCM_SHA256",
      sni: "mx.example",
      clientCertCn: "client.example",
      clientCertVerified: false,
    });
    expect(proxyTlsState(header(null, null), { mode: "proxy", assumeTls: true })).toEqual({
      terminatedBy: "proxy",
      version: null,
      cipher: null,
      sni: null,
      clientCertCn: null,
      clientCertVerified: false,
    });
  });

  it.each([
    [0x01, 0, false],
    [0x03, 0, true],
    [0x05, 0, true],
    [0x07, 0, true],
    [0x03, 1, false],
    [0x05, 0x80000000, false],
  ])("client flags 0x%s, verify %s → clientCertVerified %s", (client, verify, verified) => {
    expect(proxyTlsState(header(ssl(client, verify)), { mode: "proxy" })?.clientCertVerified).toBe(verified);
  });
});
