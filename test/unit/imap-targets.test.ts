import { describe, expect, it } from "vitest";
import { MailboxSnapshot, SelectedMailbox } from "../../relay/imap/selected.ts";
import { resolveSet } from "../../relay/imap/targets.ts";

const sel = new SelectedMailbox(
  new MailboxSnapshot({
    id: 1,
    name: "INBOX",
    uidValidity: 1,
    uidNext: 40,
    highestModseq: 1,
    messages: [2, 3, 5, 8, 13, 21, 34].map((uid): [number, number, number] => [uid, 1, 0]),
    flagSets: [[]],
    keywords: [],
  }),
  false,
);
const pairs = (t: ReturnType<typeof resolveSet>) => t?.map((x) => [x.seq, x.uid]);

describe("sequence and UID sets against the selected mailbox", () => {
  it("resolves UID ranges by search: gaps, overlaps, reversed ranges and *", () => {
    expect(pairs(resolveSet(sel, "5", true))).toEqual([[3, 5]]);
    expect(pairs(resolveSet(sel, "6", true))).toEqual([]);
    expect(pairs(resolveSet(sel, "4:9", true))).toEqual([
      [3, 5],
      [4, 8],
    ]);
    expect(pairs(resolveSet(sel, "30:*,13,8:3,1", true))).toEqual([
      [2, 3],
      [3, 5],
      [4, 8],
      [5, 13],
      [7, 34],
    ]);
    expect(pairs(resolveSet(sel, "1:*,2:5", true))?.length).toBe(7);
    expect(pairs(resolveSet(sel, "100:200", true))).toEqual([]);
  });

  it("resolves sequence numbers, once each, and refuses ones out of range", () => {
    expect(pairs(resolveSet(sel, "2,1,2:3", false))).toEqual([
      [1, 2],
      [2, 3],
      [3, 5],
    ]);
    expect(pairs(resolveSet(sel, "6:*", false))).toEqual([
      [6, 21],
      [7, 34],
    ]);
    expect(resolveSet(sel, "8", false)).toBeNull();
    expect(resolveSet(sel, "x", true)).toBeNull();
  });
});
