/**
 * The relay's typed client for the IMAP store API (/relay/v1/imap/...), over the same fetch, base URL
 * and relay secret as EdgeClient: in-process embedded, fetch(EDGE_URL) remote.
 */
import type { z } from "zod";
import type {
  AppendResponse,
  ChangesResponse,
  CopyResponse,
  ExpungeResponse,
  FetchRow,
  MailboxInfo,
  MailboxStatus,
  QuotaResponse,
  SelectResponse,
  StoreResponse,
  WatchResponse,
} from "../src/contract-imap.ts";
import {
  AppendResponseSchema,
  type BodyEntry,
  ChangesResponseSchema,
  CopyResponseSchema,
  decodeBodies,
  ExpungeResponseSchema,
  expandCompactFetch,
  FetchResponseSchema,
  IMAP_PATH,
  ImapErrorSchema,
  MailboxInfoSchema,
  MailboxStatusSchema,
  OkResponseSchema,
  QuotaResponseSchema,
  SelectResponseSchema,
  StoreResponseSchema,
  WatchResponseSchema,
} from "../src/contract-imap.ts";
import type { EdgeFetch } from "./edge-client.ts";

export interface ImapClientOptions {
  fetch: EdgeFetch;
  baseUrl: string;
  secret: string;
  timeoutMs: number;
}

/** A refusal the IMAP session can show: "nonexistent" → NO [NONEXISTENT], "exists" → NO [ALREADYEXISTS]. */
export class ImapStoreError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * What an IMAP session needs from the store API. Two transports: ImapClient (HTTP, to a deployed
 * edge) and LocalImapStore (relay/imap-local.ts: the embedded edge's same operations, in-process).
 */
export interface ImapStore {
  mailboxes(user: string): Promise<MailboxInfo[]>;
  create(user: string, name: string): Promise<{ ok: true }>;
  delete(user: string, name: string): Promise<{ ok: true }>;
  rename(user: string, from: string, to: string): Promise<{ ok: true }>;
  subscribe(user: string, name: string, subscribed: boolean): Promise<{ ok: true }>;
  status(user: string, names: string[]): Promise<MailboxStatus[]>;
  select(
    user: string,
    name: string,
    known?: { id: number; uidValidity: number; highestModseq: number },
  ): Promise<SelectResponse>;
  changes(user: string, mailboxId: number, sinceModseq: number, vanished?: boolean): Promise<ChangesResponse>;
  /** Metadata rows (raw null); with `structure`, each row's stored IMAP view, parsed. */
  fetch(
    user: string,
    mailboxId: number,
    uids: string,
    raw: false,
    structure?: boolean,
  ): Promise<{ rows: FetchRow[] }>;
  store(
    user: string,
    mailboxId: number,
    uids: string,
    op: "add" | "remove" | "replace",
    flags: string[],
    unchangedSince: number | null,
  ): Promise<StoreResponse>;
  expunge(user: string, mailboxId: number, uids: string | null): Promise<ExpungeResponse>;
  append(
    user: string,
    mailbox: string,
    flags: string[],
    internalDate: number | null,
    raw: string,
  ): Promise<AppendResponse>;
  bodies(user: string, mailboxId: number, uids: string): Promise<BodyEntry[]>;
  quota(user: string): Promise<QuotaResponse>;
  watch(mailboxes: Array<{ user: string; mailboxId: number }>): Promise<WatchResponse>;
  copy(user: string, mailboxId: number, uids: string, to: string, move: boolean): Promise<CopyResponse>;
}

/** STORE's arguments, as every ImapStore takes them (user, mailbox, UID set, op, flags, UNCHANGEDSINCE). */
export type StoreArgs = Parameters<ImapStore["store"]>;

export class ImapClient implements ImapStore {
  readonly #opts: ImapClientOptions;
  constructor(opts: ImapClientOptions) {
    this.#opts = opts;
  }

  async #request(name: string, body: unknown): Promise<Response> {
    const request = new Request(new URL(`${IMAP_PATH}/${name}`, this.#opts.baseUrl), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.#opts.secret}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.#opts.timeoutMs),
    });
    try {
      return await this.#opts.fetch(request);
    } catch (err) {
      throw new ImapStoreError("unavailable", 0, `edge unreachable: ${(err as Error).message}`);
    }
  }

  /** The request's JSON body; an error answer becomes an ImapStoreError with the edge's error code. */
  async #json(name: string, body: unknown): Promise<{ json: unknown; status: number }> {
    const response = await this.#request(name, body);
    const json: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const e = ImapErrorSchema.safeParse(json);
      throw new ImapStoreError(
        e.success ? e.data.error : "unavailable",
        response.status,
        `edge answered ${response.status}`,
      );
    }
    return { json, status: response.status };
  }

  async #post<S extends z.ZodType>(name: string, body: unknown, schema: S): Promise<z.infer<S>> {
    const { json, status } = await this.#json(name, body);
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ImapStoreError("unavailable", status, "edge sent an unexpected body");
    return parsed.data;
  }

  mailboxes(user: string) {
    return this.#post("mailboxes", { user }, MailboxInfoSchema.array());
  }
  create(user: string, name: string) {
    return this.#post("create", { user, name }, OkResponseSchema);
  }
  delete(user: string, name: string) {
    return this.#post("delete", { user, name }, OkResponseSchema);
  }
  rename(user: string, from: string, to: string) {
    return this.#post("rename", { user, from, to }, OkResponseSchema);
  }
  subscribe(user: string, name: string, subscribed: boolean) {
    return this.#post("subscribe", { user, name, subscribed }, OkResponseSchema);
  }
  status(user: string, names: string[]) {
    return this.#post("status", { user, names }, MailboxStatusSchema.array());
  }
  select(user: string, name: string, known?: { id: number; uidValidity: number; highestModseq: number }) {
    return this.#post("select", { user, name, known }, SelectResponseSchema);
  }
  changes(user: string, mailboxId: number, sinceModseq: number, vanished = false) {
    return this.#post("changes", { user, mailboxId, sinceModseq, vanished }, ChangesResponseSchema);
  }
  async fetch(user: string, mailboxId: number, uids: string, raw: boolean, structure = false) {
    if (raw || structure)
      return this.#post("fetch", { user, mailboxId, uids, raw, structure }, FetchResponseSchema);
    // Metadata only (FETCH of flags and cached views, SEARCH): the compact form.
    const { json, status } = await this.#json("fetch", { user, mailboxId, uids, raw, compact: true });
    try {
      return { rows: expandCompactFetch(json) };
    } catch {
      throw new ImapStoreError("unavailable", status, "edge sent an unexpected body");
    }
  }
  store(...[user, mailboxId, uids, op, flags, unchangedSince]: StoreArgs) {
    return this.#post("store", { user, mailboxId, uids, op, flags, unchangedSince }, StoreResponseSchema);
  }
  expunge(user: string, mailboxId: number, uids: string | null) {
    return this.#post("expunge", { user, mailboxId, uids }, ExpungeResponseSchema);
  }
  append(user: string, mailbox: string, flags: string[], internalDate: number | null, raw: string) {
    return this.#post("append", { user, mailbox, flags, internalDate, raw }, AppendResponseSchema);
  }
  /** Raw messages of a UID set, in one call (see encodeBodies in the contract). */
  async bodies(user: string, mailboxId: number, uids: string): Promise<BodyEntry[]> {
    const response = await this.#request("bodies", { user, mailboxId, uids });
    if (!response.ok) {
      const e = ImapErrorSchema.safeParse(await response.json().catch(() => null));
      throw new ImapStoreError(
        e.success ? e.data.error : "unavailable",
        response.status,
        `edge answered ${response.status}`,
      );
    }
    try {
      return decodeBodies(new Uint8Array(await response.arrayBuffer()));
    } catch (err) {
      throw new ImapStoreError(
        "unavailable",
        response.status,
        `edge sent a bad bodies frame: ${(err as Error).message}`,
      );
    }
  }
  quota(user: string) {
    return this.#post("quota", { user }, QuotaResponseSchema);
  }
  watch(mailboxes: Array<{ user: string; mailboxId: number }>) {
    return this.#post("watch", { mailboxes }, WatchResponseSchema);
  }
  copy(user: string, mailboxId: number, uids: string, to: string, move: boolean) {
    return this.#post("copy", { user, mailboxId, uids, to, move }, CopyResponseSchema);
  }
}
