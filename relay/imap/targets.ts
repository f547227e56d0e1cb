/** Sequence sets and UID sets resolved against the selected mailbox. */
import { parseSequenceSet } from "../../src/imap/sequence.ts";
import type { SelectedMailbox } from "./selected.ts";

export interface Target {
  seq: number;
  uid: number;
}

/** The messages a set names, ascending; null when a sequence number is out of range or the set is malformed. */
export function resolveSet(sel: SelectedMailbox, text: string, uid: boolean): Target[] | null {
  if (text === "$") {
    // The saved search result, for FETCH and UID FETCH alike; expunged messages drop out.
    const out: Target[] = [];
    for (const u of sel.saved) {
      const seq = sel.seqOf(u);
      if (seq > 0) out.push({ seq, uid: u });
    }
    return out;
  }
  if (uid) {
    const max = sel.uids.length ? (sel.uids[sel.uids.length - 1] as number) : 0;
    const ranges = parseSequenceSet(text, max);
    if (!ranges) return null;
    // Each range is found by binary search: a client fetching message by message (mbsync) must not
    // cost a pass over the whole mailbox per command.
    const uids = sel.uids;
    const idx: number[] = [];
    for (const [a, b] of ranges)
      for (let i = lowerBound(uids, a); i < uids.length && (uids[i] as number) <= b; i++) idx.push(i);
    return targetsAt(sel, idx, ranges.length > 1);
  }
  const ranges = parseSequenceSet(text, sel.exists);
  if (!ranges) return null;
  if (ranges.some(([a, b]) => a < 1 || b > sel.exists)) return sel.exists === 0 && text === "*" ? [] : null;
  const idx: number[] = [];
  for (const [a, b] of ranges) for (let i = a - 1; i < b; i++) idx.push(i);
  return targetsAt(sel, idx, ranges.length > 1);
}

/** The first index whose UID is at least `uid` (uids ascending). */
function lowerBound(uids: readonly number[], uid: number): number {
  let lo = 0;
  let hi = uids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((uids[mid] as number) < uid) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Targets at these indexes into sel.uids, ascending and each once. */
function targetsAt(sel: SelectedMailbox, idx: number[], unsorted: boolean): Target[] {
  if (unsorted) idx.sort((x, y) => x - y);
  const out: Target[] = [];
  let last = -1;
  for (const i of idx) {
    if (i === last) continue;
    last = i;
    out.push({ seq: i + 1, uid: sel.uids[i] as number });
  }
  return out;
}
