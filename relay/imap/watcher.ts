/**
 * One store poll per interval for every idling session of this relay: it asks the edge for the
 * highest modseq of each watched mailbox and wakes only the sessions whose mailbox moved. The store
 * is the source of truth, so N relays behind a load balancer all see every change.
 */
import type { ImapStore } from "../imap-client.ts";
import type { Logger } from "../log.ts";

const WRITES = /^\/relay\/v1\/(messages|imap\/(store|expunge|append|copy|create|delete|rename))$/;

/** True for the edge requests after which a mailbox may have changed (delivery and IMAP writes). */
export function isStoreWrite(req: Request): boolean {
  return req.method === "POST" && WRITES.test(new URL(req.url).pathname);
}

interface Watch {
  user: string;
  mailboxId: number;
  onModseq: (highestModseq: number) => void;
}

const POKE_SPACING_MS = 250;

export class MailboxWatcher {
  readonly #store: ImapStore;
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #watches = new Set<Watch>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #polling = false;
  #again = false;
  #lastPollAt = 0;

  constructor(store: ImapStore, intervalMs: number, log: Logger) {
    this.#store = store;
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  /** Calls `onModseq` with the mailbox's highest modseq after every poll; returns the unsubscribe. */
  watch(user: string, mailboxId: number, onModseq: (highestModseq: number) => void): () => void {
    const w: Watch = { user, mailboxId, onModseq };
    this.#watches.add(w);
    this.#schedule();
    return () => {
      this.#watches.delete(w);
    };
  }

  #schedule(delay = this.#intervalMs): void {
    if (this.#timer || this.#polling || this.#watches.size === 0) return;
    this.#timer = setTimeout(() => void this.#poll(), delay);
  }

  /**
   * Something in this process wrote to the store (embedded mode: a delivery, another session's
   * STORE or EXPUNGE): poll now instead of at the next interval. Bursts coalesce into one poll.
   */
  poke(): void {
    if (this.#watches.size === 0) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#schedule(this.#pokeDelay());
  }

  /**
   * At most one poked poll per POKE_SPACING_MS: under sustained ingest every delivery pokes, and one
   * poll every quarter second still tells idling clients well within a second.
   */
  #pokeDelay(): number {
    return Math.max(5, this.#lastPollAt + POKE_SPACING_MS - Date.now());
  }

  async #poll(): Promise<void> {
    this.#timer = null;
    this.#lastPollAt = Date.now();
    this.#polling = true;
    this.#again = false;
    const watches = [...this.#watches];
    const keys = new Map<string, { user: string; mailboxId: number }>();
    for (const w of watches)
      keys.set(`${w.user}\u0000${w.mailboxId}`, { user: w.user, mailboxId: w.mailboxId });
    try {
      const res = await this.#store.watch([...keys.values()]);
      const modseq = new Map(res.mailboxes.map((m) => [m.mailboxId, m.highestModseq]));
      for (const w of watches) {
        const h = modseq.get(w.mailboxId);
        if (h !== undefined && this.#watches.has(w)) w.onModseq(h);
      }
    } catch (err) {
      this.#log.debug("imap.watch-failed", { reason: (err as Error).message });
    } finally {
      this.#polling = false;
      this.#schedule(this.#again ? this.#pokeDelay() : this.#intervalMs);
    }
  }

  close(): void {
    this.#watches.clear();
    this.#again = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
