/** fast-check generators for PROXY headers and addresses. */
import fc from "fast-check";
import { KNOWN_SSL_SUBTYPES, KNOWN_TLV_TYPES } from "../../../relay/proxy/tlv.ts";
import type { ProxyFamily, ProxyHeader, ProxyTlvs, RawTlv, SslTlv } from "../../../relay/proxy/types.ts";
import { emptyTlvs } from "../../../relay/proxy/types.ts";
import type { Endpoint } from "../../../src/connection.ts";
import { formatIPv4, formatIPv6 } from "../../../src/net/ip.ts";

/** Eight 16-bit words, often with zero runs so `::` forms are exercised. */
export const ipv6Words = fc.array(
  fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })),
  {
    minLength: 8,
    maxLength: 8,
  },
);

export function wordsToBytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

export const ipv6Bytes = fc.oneof(
  ipv6Words.map(wordsToBytes),
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...v4])),
);

const port = fc.integer({ min: 0, max: 65535 });
const v4Endpoint: fc.Arbitrary<Endpoint> = fc
  .record({ bytes: fc.uint8Array({ minLength: 4, maxLength: 4 }), port })
  .map(({ bytes, port }) => ({ address: formatIPv4(bytes), port }));
const v6Endpoint: fc.Arbitrary<Endpoint> = fc
  .record({ bytes: ipv6Bytes, port })
  .map(({ bytes, port }) => ({ address: formatIPv6(bytes), port }));

const text = fc.string({ unit: "binary", maxLength: 24 });
const optionalText = fc.option(text, { nil: null });

function rawTlv(known: readonly number[]): fc.Arbitrary<RawTlv> {
  return fc.record({
    type: fc.integer({ min: 0, max: 255 }).filter((t) => !known.includes(t)),
    value: fc.uint8Array({ maxLength: 24 }),
  });
}

const ssl: fc.Arbitrary<SslTlv> = fc.record({
  client: fc.integer({ min: 0, max: 255 }),
  verify: fc.integer({ min: 0, max: 0xffffffff }),
  version: optionalText,
  cn: optionalText,
  cipher: optionalText,
  sigAlg: optionalText,
  keyAlg: optionalText,
  unknown: fc.array(rawTlv(KNOWN_SSL_SUBTYPES), { maxLength: 3 }),
});

const tlvs: fc.Arbitrary<ProxyTlvs> = fc.record({
  alpn: optionalText,
  authority: optionalText,
  crc32c: fc.option(fc.constant(0), { nil: null }),
  uniqueId: fc.option(
    fc.uint8Array({ maxLength: 128 }).map((b) => Buffer.from(b).toString("hex")),
    { nil: null },
  ),
  netns: optionalText,
  ssl: fc.option(ssl, { nil: null }),
  unknown: fc.array(rawTlv(KNOWN_TLV_TYPES), { maxLength: 4 }),
});

function addressed(
  family: ProxyFamily,
  endpoint: fc.Arbitrary<Endpoint>,
): fc.Arbitrary<Omit<ProxyHeader, "version">> {
  return fc.record({
    command: fc.constant("proxy" as const),
    family: fc.constant(family),
    source: endpoint,
    destination: endpoint,
    tlvs,
  });
}

function addressless(family: ProxyFamily): fc.Arbitrary<Omit<ProxyHeader, "version">> {
  return fc.record({
    command: fc.constant("proxy" as const),
    family: fc.constant(family),
    source: fc.constant(null),
    destination: fc.constant(null),
    tlvs,
  });
}

const local: fc.Arbitrary<Omit<ProxyHeader, "version">> = fc
  .constantFrom<ProxyFamily>("unspec", "tcp4", "udp4", "tcp6", "udp6", "unix-stream", "unix-dgram")
  .map((family) => ({ command: "local", family, source: null, destination: null, tlvs: emptyTlvs() }));

/** Any v2 header the encoder can produce (a non-null `tlvs.crc32c` asks for a CRC TLV). */
export const v2Header = fc.oneof(
  addressed("tcp4", v4Endpoint),
  addressed("udp4", v4Endpoint),
  addressed("tcp6", v6Endpoint),
  addressed("udp6", v6Endpoint),
  addressless("unspec"),
  addressless("unix-stream"),
  addressless("unix-dgram"),
  local,
);

/** Any v1 header. */
export const v1Header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.record({
    version: fc.constant(1 as const),
    command: fc.constant("proxy" as const),
    family: fc.constant("tcp4" as const),
    source: v4Endpoint,
    destination: v4Endpoint,
    tlvs: fc.constant(emptyTlvs()),
  }),
  fc.record({
    version: fc.constant(1 as const),
    command: fc.constant("proxy" as const),
    family: fc.constant("tcp6" as const),
    source: v6Endpoint,
    destination: v6Endpoint,
    tlvs: fc.constant(emptyTlvs()),
  }),
  fc.constant<ProxyHeader>({
    version: 1,
    command: "proxy",
    family: "unspec",
    source: null,
    destination: null,
    tlvs: emptyTlvs(),
  }),
);

/** Cut points for splitting an input into chunks. */
export const cuts = fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 6 });
