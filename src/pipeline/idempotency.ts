/**
 * Which key a transaction is stored under, so that a retry never stores a message twice.
 *
 * The hard case is "the edge committed, but the relay never heard back" (edge killed after the commit,
 * a reply lost, the relay's timeout firing first). The relay answered 451, so the sending MTA retries —
 * and a retry is a NEW SMTP transaction, possibly on another connection or another relay. A key the relay
 * makes up per transaction cannot match it. What does match is the content: an MTA re-sends the same
 * envelope and the same bytes (its queue file).
 *
 * So the edge, which has the whole message in hand anyway (it buffers up to its size limit to parse and
 * store it), derives the key itself:
 *
 *   key = "c1." + SHA-256( envelope sender, sorted recipients, SHA-256(message bytes as received) )
 *
 * The relay still streams; it never needs the body before sending the request header.
 *
 * It only does this for messages with a Message-ID header. A message that carries its own Message-ID
 * (every MTA and MUA adds one) and is byte-for-byte identical, for the same envelope, IS the same message.
 * Without one, identical content can legitimately be sent twice (a script mailing the same alert every
 * hour), and silently answering the second "250, duplicate" would drop mail; those messages keep the
 * relay's per-transaction key, with SMTP's usual at-least-once semantics for that one narrow case.
 *
 * The Received header the edge prepends is not part of the hash (it differs per attempt), nor is the
 * session (a retry may come from another IP of the same sending cluster).
 */
import type { Transaction } from "../contract.ts";
import { sha256, toHex } from "../sha256.ts";

const enc = new TextEncoder();
/** Header blocks longer than this are not searched for Message-ID (the key falls back to the relay's). */
const MAX_HEADER_SCAN = 64 * 1024;

export async function idempotencyKeyFor(
  tx: Transaction,
  raw: Uint8Array,
  relayKey: string,
): Promise<{ key: string; byContent: boolean }> {
  if (!hasMessageId(raw)) return { key: relayKey, byContent: false };
  // Two steps, so the message is hashed in place and never copied.
  const body = await sha256(raw);
  const envelope = enc.encode(`${JSON.stringify([tx.mailFrom, [...tx.rcptTo].sort()])}\n`);
  const data = new Uint8Array(envelope.length + body.length);
  data.set(envelope, 0);
  data.set(body, envelope.length);
  return { key: `c1.${toHex(await sha256(data))}`, byContent: true };
}

/** True when the header block (before the first empty line) has a non-empty Message-ID field. */
export function hasMessageId(raw: Uint8Array): boolean {
  // Only the header block is decoded and searched (the body can be megabytes).
  const head = new TextDecoder("latin1").decode(raw.subarray(0, headerEnd(raw, MAX_HEADER_SCAN)));
  return /(?:^|\n)message-id[ \t]*:[ \t]*(?:\r?\n[ \t]+)?\S/i.test(head);
}

/** Where the header block ends: just past the LF before the empty line, or `limit`. */
function headerEnd(raw: Uint8Array, limit: number): number {
  for (let i = raw.indexOf(0x0a); i >= 0 && i < limit; i = raw.indexOf(0x0a, i + 1)) {
    const next = raw[i + 1];
    if (next === 0x0a || (next === 0x0d && raw[i + 2] === 0x0a)) return i + 1;
  }
  return Math.min(raw.length, limit);
}
