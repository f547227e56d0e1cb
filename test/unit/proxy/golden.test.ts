import { describe, expect, it } from "vitest";
import { parseProxyHeader } from "../../../relay/proxy/parser.ts";
import type { ProxyHeader, ProxyTlvs } from "../../../relay/proxy/types.ts";
import { ascii, concat, hex, parseByteAtATime, parseChunked, V2_SIG_HEX } from "./helpers.ts";

function tlvs(partial: Partial<ProxyTlvs> = {}): ProxyTlvs {
  return {
    alpn: null,
    authority: null,
    crc32c: null,
    uniqueId: null,
    netns: null,
    ssl: null,
    unknown: [],
    ...partial,
  };
}

function path108(path: string): string {
  return Buffer.from(ascii(path)).toString("hex").padEnd(216, "0");
}

interface Vector {
  name: string;
  bytes: Uint8Array;
  header: ProxyHeader;
}

const EHLO = ascii("EHLO x\r\n");
/** The start of a TLS ClientHello record, as a client of an implicit-TLS listener would send. */
const CLIENT_HELLO = hex("16 0301 00f8 01 0000f4 0303 00112233445566778899");

const vectors: Vector[] = [
  {
    name: "v1 TCP4",
    bytes: ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
    header: {
      version: 1,
      command: "proxy",
      family: "tcp4",
      source: { address: "192.168.0.1", port: 56324 },
      destination: { address: "192.168.0.11", port: 443 },
      tlvs: tlvs(),
    },
  },
  {
    name: "v1 TCP6 (uncompressed, uppercase source)",
    bytes: ascii("PROXY TCP6 2001:DB8:0:0:0:0:0:1 2001:db8::2 4000 25\r\n"),
    header: {
      version: 1,
      command: "proxy",
      family: "tcp6",
      source: { address: "2001:db8::1", port: 4000 },
      destination: { address: "2001:db8::2", port: 25 },
      tlvs: tlvs(),
    },
  },
  {
    name: "v1 TCP6 with an IPv4-mapped source and port 0",
    bytes: ascii("PROXY TCP6 ::ffff:10.1.2.3 ::1 1 0\r\n"),
    header: {
      version: 1,
      command: "proxy",
      family: "tcp6",
      source: { address: "10.1.2.3", port: 1 },
      destination: { address: "::1", port: 0 },
      tlvs: tlvs(),
    },
  },
  {
    name: "v1 TCP6 worst case (104 bytes)",
    bytes: ascii(
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
    ),
    header: {
      version: 1,
      command: "proxy",
      family: "tcp6",
      source: { address: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", port: 65535 },
      destination: { address: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", port: 65535 },
      tlvs: tlvs(),
    },
  },
  {
    name: "v1 UNKNOWN (15 bytes)",
    bytes: ascii("PROXY UNKNOWN\r\n"),
    header: { version: 1, command: "proxy", family: "unspec", source: null, destination: null, tlvs: tlvs() },
  },
  {
    name: "v1 UNKNOWN with ignored addresses (107 bytes)",
    bytes: ascii(
      "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
    ),
    header: { version: 1, command: "proxy", family: "unspec", source: null, destination: null, tlvs: tlvs() },
  },
  {
    name: "v2 LOCAL",
    bytes: hex(`${V2_SIG_HEX} 20 00 0000`),
    header: { version: 2, command: "local", family: "unspec", source: null, destination: null, tlvs: tlvs() },
  },
  {
    name: "v2 LOCAL with a payload that is skipped",
    bytes: hex(`${V2_SIG_HEX} 20 11 000f | 7f000001 7f000001 0019 0019 | ff 0000`),
    header: { version: 2, command: "local", family: "tcp4", source: null, destination: null, tlvs: tlvs() },
  },
  {
    name: "v2 PROXY TCP4",
    bytes: hex(`${V2_SIG_HEX} 21 11 000c | c0a80001 c0a8000b dc04 01bb`),
    header: {
      version: 2,
      command: "proxy",
      family: "tcp4",
      source: { address: "192.168.0.1", port: 56324 },
      destination: { address: "192.168.0.11", port: 443 },
      tlvs: tlvs(),
    },
  },
  {
    name: "v2 PROXY UDP4",
    bytes: hex(`${V2_SIG_HEX} 21 12 000c | 0a000001 0a000002 0035 0035`),
    header: {
      version: 2,
      command: "proxy",
      family: "udp4",
      source: { address: "10.0.0.1", port: 53 },
      destination: { address: "10.0.0.2", port: 53 },
      tlvs: tlvs(),
    },
  },
  {
    name: "v2 PROXY TCP6 (IPv4-mapped destination)",
    bytes: hex(
      `${V2_SIG_HEX} 21 21 0024 | 20010db8000000000000000000000001 00000000000000000000ffff0a000001 | 1f90 0019`,
    ),
    header: {
      version: 2,
      command: "proxy",
      family: "tcp6",
      source: { address: "2001:db8::1", port: 8080 },
      destination: { address: "10.0.0.1", port: 25 },
      tlvs: tlvs(),
    },
  },
  {
    name: "v2 PROXY UNIX stream",
    bytes: hex(`${V2_SIG_HEX} 21 31 00d8 | ${path108("/run/a.sock")} ${path108("/run/b.sock")}`),
    header: {
      version: 2,
      command: "proxy",
      family: "unix-stream",
      source: null,
      destination: null,
      tlvs: tlvs(),
    },
  },
  {
    name: "v2 PROXY AF_UNSPEC with an AUTHORITY TLV",
    bytes: hex(`${V2_SIG_HEX} 21 00 0004 | 02 0001 61`),
    header: {
      version: 2,
      command: "proxy",
      family: "unspec",
      source: null,
      destination: null,
      tlvs: tlvs({ authority: "a" }),
    },
  },
  {
    name: "v2 PROXY TCP4 with every TLV, SSL sub-TLVs and a valid CRC32C",
    bytes: hex(
      [
        V2_SIG_HEX,
        "21 11 009a",
        "c0a80001 c0a8000b dc04 01bb",
        "01 0004 736d7470", // ALPN "smtp"
        "02 0010 6d61696c2e6578616d706c652e636f6d", // AUTHORITY "mail.example.com"
        "05 0004 0102a0ff", // UNIQUE_ID
        "30 0004 626c7565", // NETNS "blue"
        "20 0050 07 00000000", // SSL: client SSL|CERT_CONN|CERT_SESS, verify 0
        "21 0007 544c5376312e33", //   VERSION "TLSv1.3"
        "22 000e 636c69656e742e6578616d706c65", //   CN "client.example"
        "23 0016 544c535f4145535f3235365f47434d5f534841333834", //   CIPHER
        "24 000a 5253412d534841323536", //   SIG_ALG "RSA-SHA256"
        "25 0007 52534132303438", //   KEY_ALG "RSA2048"
        "04 0003 000000", // NOOP
        "e0 0003 78797a", // custom type 0xE0, kept raw
        "03 0004 f523965d", // CRC32C (computed independently)
      ].join(" "),
    ),
    header: {
      version: 2,
      command: "proxy",
      family: "tcp4",
      source: { address: "192.168.0.1", port: 56324 },
      destination: { address: "192.168.0.11", port: 443 },
      tlvs: tlvs({
        alpn: "smtp",
        authority: "mail.example.com",
        crc32c: 0xf523965d,
        uniqueId: "0102a0ff",
        netns: "blue",
        ssl: {
          client: 7,
          verify: 0,
          version: "TLSv1.3",
          cn: "client.example",
          cipher: "TLS_AES_256_GCM_SHA384",
          sigAlg: "RSA-SHA256",
          keyAlg: "RSA2048",
          unknown: [],
        },
        unknown: [{ type: 0xe0, value: ascii("xyz") }],
      }),
    },
  },
];

describe.each(vectors)("$name", ({ bytes, header }) => {
  for (const [label, rest] of [
    ["EHLO", EHLO],
    ["ClientHello", CLIENT_HELLO],
    ["nothing", new Uint8Array(0)],
  ] as const) {
    it(`parses in one chunk and returns the following ${label} untouched`, () => {
      const step = parseProxyHeader(concat(bytes, rest));
      expect(step).toEqual({ state: "done", header, rest });
    });
  }

  it("parses byte at a time, finishing exactly on the header's last byte", () => {
    for (let i = 0; i < bytes.length - 1; i++) {
      // every proper prefix needs more
      expect(parseProxyHeader(bytes.subarray(0, i)).state).toBe("need-more");
    }
    const { step, consumed } = parseByteAtATime(concat(bytes, EHLO));
    expect(consumed).toBe(bytes.length);
    expect(step).toEqual({ state: "done", header, rest: new Uint8Array(0) });
  });

  it("gives the same header and leftover for every two-chunk split", () => {
    const input = concat(bytes, EHLO);
    for (let cut = 0; cut <= input.length; cut++) {
      const { step, rest } = parseChunked(input, [cut]);
      expect(step.state).toBe("done");
      if (step.state === "done") expect(step.header).toEqual(header);
      expect(rest).toEqual(EHLO);
    }
  });
});
