/** What a command handler sees of its session. */

import type { Token } from "../../src/imap/parser.ts";
import type { MessageView } from "../../src/imap/structure.ts";
import type { ImapStore } from "../imap-client.ts";
import type { BodyCache, SelectCache, ViewCache } from "./cache.ts";
import type { MailboxSnapshot, SelectedMailbox } from "./selected.ts";

export type Status = "OK" | "NO" | "BAD";

export interface Result {
  status: Status;
  /** Text after the status, e.g. "[READ-WRITE] SELECT completed". */
  text: string;
}

export const ok = (text: string): Result => ({ status: "OK", text });
export const no = (text: string): Result => ({ status: "NO", text });
export const bad = (text: string): Result => ({ status: "BAD", text });

export interface SessionContext {
  readonly user: string;
  readonly store: ImapStore;
  readonly cache: BodyCache;
  readonly views: ViewCache<MessageView>;
  readonly snapshots: SelectCache<MailboxSnapshot>;
  /** ENABLEd extensions (CONDSTORE, QRESYNC, UTF8=ACCEPT). */
  readonly enabled: Set<string>;
  selected: SelectedMailbox | null;
  /** Writes one untagged/continuation line (CRLF added). */
  line(text: string): void;
  /** Writes response pieces (literals as bytes), waiting for the socket to drain. */
  write(chunks: Array<string | Uint8Array>): Promise<void>;
  /** Polls the store for the selected mailbox's changes and reports them. */
  sync(allowExpunge: boolean): Promise<void>;
  /** Reports removed messages: `* n EXPUNGE` each, or one `* VANISHED uids` under QRESYNC. */
  expunged(seqs: number[], uids: number[]): void;
  /** Turns on CONDSTORE for the session (any CONDSTORE-aware command does so). */
  condstore(): void;
}

export interface Command {
  tag: string;
  name: string;
  args: Token[];
  /** True for UID FETCH/STORE/SEARCH/COPY/MOVE/EXPUNGE. */
  uid: boolean;
}
