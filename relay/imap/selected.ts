/**
 * The selected mailbox as this session's client knows it: UIDs in sequence order, flags and modseqs.
 * Store changes (from this session or any other relay) are diffed against it, so every untagged
 * EXPUNGE/EXISTS/FETCH is computed from what the client was last told. A count only ever grows
 * through EXISTS after new mail: there is never an EXISTS of an emptied mailbox.
 */
import type { ChangesResponse, MessageState, SelectResponse } from "../../src/contract-imap.ts";
import { expandSet } from "../../src/imap/sequence.ts";

export interface Untagged {
  /** Sequence numbers to report as EXPUNGE, in order. */
  expunged: number[];
  /** The same messages' UIDs (for QRESYNC's VANISHED). */
  expungedUids: number[];
  exists: number | null;
  flags: Array<{ seq: number; uid: number; flags: string[]; modseq: number }>;
}

/**
 * A full SELECT answer with what every session selecting it needs precomputed once: the UIDs in
 * sequence order and the first unseen message. The relay keeps the last one per mailbox (SelectCache),
 * so selecting an unchanged mailbox copies nothing: sessions share `uids` until one of them changes it.
 */
export class MailboxSnapshot {
  readonly response: SelectResponse;
  readonly uids: readonly number[];
  readonly firstUnseen: number;
  constructor(response: SelectResponse) {
    this.response = response;
    const n = response.messages.length;
    const uids = new Array<number>(n);
    for (let i = 0; i < n; i++) uids[i] = (response.messages[i] as [number, number, number])[0];
    this.uids = uids;
    const unseen = response.flagSets.map((f) => !f.includes("\\Seen"));
    this.firstUnseen = response.messages.findIndex((m) => unseen[m[2]] === true) + 1;
  }
  /** SelectCache bounds itself by message count. */
  get messages(): SelectResponse["messages"] {
    return this.response.messages;
  }
}

export class SelectedMailbox {
  readonly id: number;
  readonly name: string;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** UIDs in sequence order; the snapshot's own array until this session changes it (copy on write). */
  #uids: readonly number[];
  #ownsUids = false;
  /** The SELECT answer, kept until `state` is first needed (it may be a relay-wide shared snapshot). */
  #source: SelectResponse | null;
  #firstUnseen: number;
  #state: Map<number, { flags: string[]; modseq: number }> | null = null;
  readonly keywords = new Set<string>();
  /** SEARCHRES (RFC 5182): the UIDs of the last SEARCH ... RETURN (SAVE), which "$" names. */
  saved: number[] = [];
  /** UIDs gone from the store that the client has not been told about yet. */
  readonly pendingExpunge = new Set<number>();

  /** `uidNext` may be newer than the snapshot's (the edge said the mailbox is otherwise unchanged). */
  constructor(snapshot: MailboxSnapshot, readOnly: boolean, uidNext = snapshot.response.uidNext) {
    const s = snapshot.response;
    this.id = s.id;
    this.name = s.name;
    this.readOnly = readOnly;
    this.uidValidity = s.uidValidity;
    this.uidNext = uidNext;
    this.highestModseq = s.highestModseq;
    this.#uids = snapshot.uids;
    this.#firstUnseen = snapshot.firstUnseen;
    // The per-message map is built on first use: a SELECT that is followed by a FETCH or a SEARCH
    // only needs the UIDs, and building 10,000 entries was most of SELECT's time.
    this.#source = s;
    for (const k of s.keywords) this.keywords.add(k);
  }

  get uids(): readonly number[] {
    return this.#uids;
  }

  /** The UID list to change in place, copied from the shared snapshot the first time. */
  #mutableUids(): number[] {
    if (!this.#ownsUids) {
      this.#uids = this.#uids.slice();
      this.#ownsUids = true;
    }
    return this.#uids as number[];
  }

  /** Flags and modseq by UID, for the messages the client knows. */
  get state(): Map<number, { flags: string[]; modseq: number }> {
    if (this.#state) return this.#state;
    const state = new Map<number, { flags: string[]; modseq: number }>();
    const s = this.#source as SelectResponse;
    for (const [uid, modseq, f] of s.messages) state.set(uid, { flags: s.flagSets[f] ?? [], modseq });
    this.#source = null;
    this.#state = state;
    return state;
  }

  /** Sequence number of the first message without \Seen, 0 when every message is seen. */
  firstUnseen(): number {
    if (this.#source) return this.#firstUnseen;
    return this.uids.findIndex((u) => !this.state.get(u)?.flags.includes("\\Seen")) + 1;
  }

  get exists(): number {
    return this.uids.length;
  }

  seqOf(uid: number): number {
    // Binary search: uids are ascending.
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid] as number;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Records flags this session changed, returns whether they differ from what the client knew. */
  update(m: MessageState): boolean {
    const cur = this.state.get(m.uid);
    if (!cur) return false;
    const same = cur.flags.length === m.flags.length && cur.flags.every((f) => m.flags.includes(f));
    cur.modseq = Math.max(cur.modseq, m.modseq);
    cur.flags = m.flags;
    for (const f of m.flags) if (!f.startsWith("\\")) this.keywords.add(f);
    return !same;
  }

  /** Removes UIDs this session expunged; returns their sequence numbers in the order to report them. */
  remove(uids: number[]): number[] {
    return this.removeUids(uids).seqs;
  }

  /** As remove(), also returning which UIDs were actually present. */
  removeUids(uids: number[]): { seqs: number[]; uids: number[] } {
    const seqs: number[] = [];
    const gone: number[] = [];
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const seq = this.seqOf(uid);
      if (seq === 0) continue;
      this.#mutableUids().splice(seq - 1, 1);
      this.state.delete(uid);
      this.pendingExpunge.delete(uid);
      seqs.push(seq);
      gone.push(uid);
    }
    return { seqs, uids: gone };
  }

  /** Applies a change report; `allowExpunge` is false while sequence numbers must stay put. */
  apply(changes: ChangesResponse, allowExpunge: boolean): Untagged {
    const out: Untagged = { expunged: [], expungedUids: [], exists: null, flags: [] };
    const drop = () => {
      const r = this.removeUids([...this.pendingExpunge]);
      out.expunged = r.seqs;
      out.expungedUids = r.uids;
    };
    if (changes.uids !== null) {
      const now = new Set(expandSet(changes.uids));
      for (const uid of this.uids) if (!now.has(uid)) this.pendingExpunge.add(uid);
      const max = this.uids.length ? (this.uids[this.uids.length - 1] as number) : 0;
      const added = [...now].filter((u) => u > max).sort((a, b) => a - b);
      const byUid = new Map(changes.changed.map((c) => [c.uid, c]));
      if (allowExpunge && this.pendingExpunge.size > 0) drop();
      for (const uid of added) {
        const c = byUid.get(uid);
        this.#mutableUids().push(uid);
        this.state.set(uid, { flags: c?.flags ?? [], modseq: c?.modseq ?? changes.highestModseq });
      }
      if (added.length > 0) out.exists = this.uids.length;
      const addedSet = new Set(added);
      for (const c of changes.changed) {
        if (addedSet.has(c.uid) || this.pendingExpunge.has(c.uid)) continue;
        if (this.update(c))
          out.flags.push({ seq: this.seqOf(c.uid), uid: c.uid, flags: c.flags, modseq: c.modseq });
      }
    } else if (allowExpunge && this.pendingExpunge.size > 0) drop();
    this.highestModseq = Math.max(this.highestModseq, changes.highestModseq);
    this.uidNext = Math.max(this.uidNext, changes.uidNext);
    return out;
  }
}
