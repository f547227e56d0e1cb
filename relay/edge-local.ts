/**
 * The relay's questions (RCPT, AUTH, ingest) to an edge in the same process (embedded mode): the edge's own relay
 * API (edge/relay-api.ts), the operations its HTTP routes call, without a Request and a Response
 * around each call and without encoding the transaction into a header and parsing it back. Message
 * ingest goes to the edge thread when one runs. Answers, refusals and the 451s for failures and
 * timeouts are the ones the HTTP transport (relay/edge-client.ts) gives.
 */
import type { EdgeThread } from "../edge/edge-thread-host.ts";
import type { RelayAnswer, RelayApi } from "../edge/relay-api.ts";
import { tooLarge } from "../edge/relay-api.ts";
import {
  type AuthRequest,
  type IngestResponse,
  type RecipientRequest,
  TEMPFAIL,
  type Transaction,
} from "../src/contract.ts";
import { readLimited } from "../src/streams.ts";
import { type EdgeResult, type RelayEdge, withDeadline } from "./edge-client.ts";

export interface LocalRelayEdgeOptions {
  api: RelayApi;
  /** Where messages are ingested when the edge runs on its own thread; else `api.ingest`, here. */
  thread?: Pick<EdgeThread, "ingest"> | null;
  timeoutMs: number;
  /** After a message is stored (wakes idling IMAP sessions). */
  onStored: () => void;
  /** An unexpected failure (a bug, a broken database): the HTTP transport's 500. */
  onError: (err: unknown) => void;
}

const fromAnswer = <T>(a: RelayAnswer<T>): EdgeResult<T> =>
  a.ok ? a : { ok: false, reply: a.refusal.reply, reason: a.refusal.error };

export class LocalRelayEdge implements RelayEdge {
  readonly #opts: LocalRelayEdgeOptions;
  constructor(opts: LocalRelayEdgeOptions) {
    this.#opts = opts;
  }

  #call<T>(op: (signal: AbortSignal) => Promise<RelayAnswer<T>>): Promise<EdgeResult<T>> {
    return withDeadline(this.#opts.timeoutMs, async (signal) => {
      try {
        return fromAnswer(await op(signal));
      } catch (err) {
        if (signal.aborted) return { ok: false, reply: TEMPFAIL, reason: "edge timeout" };
        this.#opts.onError(err);
        return { ok: false, reply: TEMPFAIL, reason: `edge failed: ${(err as Error).message}` };
      }
    });
  }

  recipient(req: RecipientRequest) {
    return this.#call(async () => ({ ok: true, value: await this.#opts.api.recipient(req) }) as const);
  }

  auth(req: AuthRequest) {
    return this.#call(async () => ({ ok: true, value: await this.#opts.api.auth(req) }) as const);
  }

  async ingest(transaction: Transaction, idempotencyKey: string, body: ReadableStream<Uint8Array>) {
    const { api, thread } = this.#opts;
    const result = await this.#call<IngestResponse>(async (signal) => {
      if (thread) return thread.ingest(transaction, idempotencyKey, body, signal);
      const read = await readLimited(body, api.maxMessageBytes, signal);
      if (!read.ok) return tooLarge;
      return api.ingest({ transaction, idempotencyKey, raw: read.bytes });
    });
    if (result.ok) this.#opts.onStored();
    return result;
  }

  async health() {
    return { ok: true, value: { ok: true } } as const;
  }
}
