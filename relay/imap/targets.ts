/** Sequence sets and UID sets resolved against the selected mailbox. */
import { inRanges, parseSequenceSet } from "../../src/imap/sequence.ts";
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
    const out: Target[] = [];
    sel.uids.forEach((u, i) => {
      if (inRanges(ranges, u)) out.push({ seq: i + 1, uid: u });
    });
    return out;
  }
  const ranges = parseSequenceSet(text, sel.exists);
  if (!ranges) return null;
  if (ranges.some(([a, b]) => a < 1 || b > sel.exists)) return sel.exists === 0 && text === "*" ? [] : null;
  const out: Target[] = [];
  sel.uids.forEach((u, i) => {
    if (inRanges(ranges, i + 1)) out.push({ seq: i + 1, uid: u });
  });
  return out;
}
