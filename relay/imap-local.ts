/**
 * The IMAP store API in-process, for the embedded relay: the edge's own operations (edge/imap-api.ts),
 * the ones its HTTP routes call, without building a Request and a Response around each call. A first
 * SELECT after LOGIN spent more time in that HTTP layer than in the store. Refusals arrive as the same
 * ImapStoreError codes and statuses the HTTP transport produces; writes wake idling sessions.
 */
import type { ImapStoreApi } from "../edge/imap-api.ts";
import { imapFailure } from "../edge/imap-api.ts";
import { type BodyEntry, expandCompactFetch, type FetchRow } from "../src/contract-imap.ts";
import { type ImapStore, ImapStoreError, type StoreArgs } from "./imap-client.ts";

export interface LocalImapStoreOptions {
  api: ImapStoreApi;
  /** After every successful write (the HTTP transport's isStoreWrite requests). */
  onWrite: () => void;
  /** An unexpected failure (a bug or a broken database): the HTTP transport's 500. */
  onError: (err: unknown) => void;
}

export class LocalImapStore implements ImapStore {
  readonly #api: ImapStoreApi;
  readonly #opts: LocalImapStoreOptions;
  constructor(opts: LocalImapStoreOptions) {
    this.#api = opts.api;
    this.#opts = opts;
  }

  async #call<T>(op: () => Promise<T>, write = false): Promise<T> {
    let result: T;
    try {
      result = await op();
    } catch (err) {
      const f = imapFailure(err);
      if (f) throw new ImapStoreError(f.error, f.status, `edge answered ${f.status}`);
      this.#opts.onError(err);
      throw new ImapStoreError("internal error", 500, "edge answered 500");
    }
    if (write) this.#opts.onWrite();
    return result;
  }

  mailboxes(user: string) {
    return this.#call(() => this.#api.mailboxes({ user }));
  }
  create(user: string, name: string) {
    return this.#call(() => this.#api.create({ user, name }), true);
  }
  delete(user: string, name: string) {
    return this.#call(() => this.#api.delete({ user, name }), true);
  }
  rename(user: string, from: string, to: string) {
    return this.#call(() => this.#api.rename({ user, from, to }), true);
  }
  subscribe(user: string, name: string, subscribed: boolean) {
    return this.#call(() => this.#api.subscribe({ user, name, subscribed }));
  }
  status(user: string, names: string[]) {
    return this.#call(() => this.#api.status({ user, names }));
  }
  select(user: string, name: string, known?: { id: number; uidValidity: number; highestModseq: number }) {
    return this.#call(() => this.#api.select({ user, name, known }));
  }
  changes(user: string, mailboxId: number, sinceModseq: number, vanished = false) {
    return this.#call(() => this.#api.changes({ user, mailboxId, sinceModseq, vanished }));
  }
  fetch(user: string, mailboxId: number, uids: string, _raw: false, structure = false) {
    return this.#call(async (): Promise<{ rows: FetchRow[] }> => {
      const res = await this.#api.fetch({
        user,
        mailboxId,
        uids,
        raw: false,
        structure,
        compact: !structure,
      });
      if (res.kind === "compact") return { rows: expandCompactFetch(res.body) };
      if (res.kind === "rows") return { rows: res.rows };
      // The HTTP transport splices each stored view's JSON into the answer; here it is parsed alone.
      return {
        rows: res.rows.map(({ structure: view, ...meta }) => ({
          ...meta,
          raw: null,
          structure: parseView(view),
        })),
      };
    });
  }
  store(...[user, mailboxId, uids, op, flags, unchangedSince]: StoreArgs) {
    return this.#call(() => this.#api.store({ user, mailboxId, uids, op, flags, unchangedSince }), true);
  }
  expunge(user: string, mailboxId: number, uids: string | null) {
    return this.#call(() => this.#api.expunge({ user, mailboxId, uids }), true);
  }
  append(user: string, mailbox: string, flags: string[], internalDate: number | null, raw: string) {
    return this.#call(() => this.#api.append({ user, mailbox, flags, internalDate, raw }), true);
  }
  bodies(user: string, mailboxId: number, uids: string): Promise<BodyEntry[]> {
    return this.#call(() => this.#api.bodies({ user, mailboxId, uids }));
  }
  quota(user: string) {
    return this.#call(() => this.#api.quota({ user }));
  }
  watch(mailboxes: Array<{ user: string; mailboxId: number }>) {
    return this.#call(() => this.#api.watch({ mailboxes }));
  }
  copy(user: string, mailboxId: number, uids: string, to: string, move: boolean) {
    return this.#call(() => this.#api.copy({ user, mailboxId, uids, to, move }), true);
  }
}

/** A stored view as the HTTP transport would deliver it: only what structureJson() wrote, else null. */
function parseView(view: string | null): unknown {
  if (!view?.startsWith('{"v":1,') || !view.endsWith("}")) return null;
  try {
    return JSON.parse(view) as unknown;
  } catch {
    return null;
  }
}
