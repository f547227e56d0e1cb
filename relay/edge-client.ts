/**
 * The relay's way to the edge for its sessions: `RelayEdge`, over HTTP here (`fetch(EDGE_URL)` in remote mode,
 * or any Hono app's `fetch`), or in-process when embedded (relay/edge-local.ts). Every failure
 * becomes a temporary SMTP reply, never a 250.
 */
import {
  type AuthRequest,
  type AuthResponse,
  AuthResponseSchema,
  EdgeErrorSchema,
  encodeTransaction,
  IDEMPOTENCY_HEADER,
  type IngestResponse,
  IngestResponseSchema,
  RELAY_PATHS,
  type RecipientRequest,
  type RecipientResponse,
  RecipientResponseSchema,
  type SmtpReply,
  TEMPFAIL,
  TRANSACTION_HEADER,
  type Transaction,
} from "../src/contract.ts";

export type EdgeFetch = (request: Request) => Promise<Response>;

export interface EdgeClientOptions {
  /** In-process: `(req) => app.fetch(req)`. Remote: `globalThis.fetch`. */
  fetch: EdgeFetch;
  /** Base URL the paths are resolved against (any origin works in-process). */
  baseUrl: string;
  secret: string;
  /** How long to wait for any edge answer, including "message stored". */
  timeoutMs: number;
}

export type EdgeResult<T> = { ok: true; value: T } | { ok: false; reply: SmtpReply; reason: string };

/** What the relay's sessions ask the edge: SMTP recipients, AUTH (SMTP and IMAP LOGIN), message ingest. */
export interface RelayEdge {
  recipient(req: RecipientRequest): Promise<EdgeResult<RecipientResponse>>;
  auth(req: AuthRequest): Promise<EdgeResult<AuthResponse>>;
  /** Streams one transaction's message to the edge; resolves once the edge says it is stored (or not). */
  ingest(
    transaction: Transaction,
    idempotencyKey: string,
    body: ReadableStream<Uint8Array>,
  ): Promise<EdgeResult<IngestResponse>>;
  health(): Promise<EdgeResult<{ ok: boolean }>>;
}

/**
 * Runs `attempt` with a deadline: after `timeoutMs` the signal aborts it and the answer is 451, so a
 * stuck edge never holds an SMTP client past the configured timeout.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  attempt: (signal: AbortSignal) => Promise<EdgeResult<T>>,
): Promise<EdgeResult<T>> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<EdgeResult<T>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error("edge timeout"));
      resolve({ ok: false, reply: TEMPFAIL, reason: `edge timeout after ${timeoutMs} ms` });
    }, timeoutMs);
  });
  try {
    return await Promise.race([attempt(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class EdgeClient implements RelayEdge {
  readonly #opts: EdgeClientOptions;
  constructor(opts: EdgeClientOptions) {
    this.#opts = opts;
  }

  #call<T>(path: string, init: RequestInit, parse: (body: unknown) => T | null): Promise<EdgeResult<T>> {
    return withDeadline(this.#opts.timeoutMs, async (signal) => {
      try {
        const headers = new Headers(init.headers);
        headers.set("authorization", `Bearer ${this.#opts.secret}`);
        const request = new Request(new URL(path, this.#opts.baseUrl), {
          ...init,
          headers,
          signal,
          // Required by the fetch spec for a streamed request body.
          ...(init.body instanceof ReadableStream ? { duplex: "half" } : {}),
        } as RequestInit);
        const response = await this.#opts.fetch(request);
        const body: unknown = await response.json().catch(() => null);
        if (response.ok) {
          const value = parse(body);
          if (value !== null) return { ok: true, value };
          return {
            ok: false,
            reply: TEMPFAIL,
            reason: `edge answered ${response.status} with an unexpected body`,
          };
        }
        const refusal = EdgeErrorSchema.safeParse(body);
        // A 5xx is an internal edge failure: always temporary, whatever its body says.
        if (response.status >= 500 || !refusal.success) {
          return { ok: false, reply: TEMPFAIL, reason: `edge answered ${response.status}` };
        }
        return { ok: false, reply: refusal.data.reply, reason: refusal.data.error };
      } catch (err) {
        return { ok: false, reply: TEMPFAIL, reason: `edge unreachable: ${(err as Error).message}` };
      }
    });
  }

  recipient(req: RecipientRequest): Promise<EdgeResult<RecipientResponse>> {
    return this.#call(
      RELAY_PATHS.recipient,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req) },
      (b) => RecipientResponseSchema.safeParse(b).data ?? null,
    );
  }

  auth(req: AuthRequest): Promise<EdgeResult<AuthResponse>> {
    return this.#call(
      RELAY_PATHS.auth,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(req) },
      (b) => AuthResponseSchema.safeParse(b).data ?? null,
    );
  }

  ingest(
    transaction: Transaction,
    idempotencyKey: string,
    body: ReadableStream<Uint8Array>,
  ): Promise<EdgeResult<IngestResponse>> {
    return this.#call(
      RELAY_PATHS.messages,
      {
        method: "POST",
        headers: {
          "content-type": "message/rfc822",
          [TRANSACTION_HEADER]: encodeTransaction(transaction),
          [IDEMPOTENCY_HEADER]: idempotencyKey,
        },
        body,
      },
      (b) => IngestResponseSchema.safeParse(b).data ?? null,
    );
  }

  async health(): Promise<EdgeResult<{ ok: boolean }>> {
    return this.#call(RELAY_PATHS.health, { method: "GET" }, (b) =>
      typeof b === "object" && b !== null && (b as { ok?: unknown }).ok === true ? { ok: true } : null,
    );
  }
}
