import { describe, expect, it } from "vitest";
import { MailboxSnapshot, SelectedMailbox } from "../../relay/imap/selected.ts";

const base = () =>
  new SelectedMailbox(
    new MailboxSnapshot({
      id: 1,
      name: "INBOX",
      uidValidity: 7,
      uidNext: 6,
      highestModseq: 10,
      messages: [1, 2, 3, 5].map((uid): [number, number, number] => [uid, uid, 0]),
      flagSets: [[]],
      keywords: [],
    }),
    false,
  );

describe("selected mailbox change tracking", () => {
  it("reports expunges highest-first-safe, then new mail, then flag changes", () => {
    const s = base();
    const u = s.apply(
      {
        uidNext: 8,
        highestModseq: 14,
        changed: [
          { uid: 3, modseq: 12, flags: ["\\Seen"] },
          { uid: 6, modseq: 13, flags: [] },
          { uid: 7, modseq: 14, flags: ["\\Flagged"] },
        ],
        uids: "3,5:7",
      },
      true,
    );
    // UIDs 1 and 2 are gone: each EXPUNGE number counts the ones already removed.
    expect(u.expunged).toEqual([1, 1]);
    expect(u.expungedUids).toEqual([1, 2]);
    expect(u.exists).toBe(4);
    expect(u.flags).toEqual([{ seq: 1, uid: 3, flags: ["\\Seen"], modseq: 12 }]);
    expect(s.uids).toEqual([3, 5, 6, 7]);
    expect(s.highestModseq).toBe(14);
  });

  it("holds expunges back while sequence numbers must not move, and never announces an empty mailbox", () => {
    const s = base();
    const held = s.apply({ uidNext: 6, highestModseq: 11, changed: [], uids: "" }, false);
    expect(held).toEqual({ expunged: [], expungedUids: [], exists: null, flags: [] });
    expect(s.exists).toBe(4);
    // The next poll (nothing new in the store) still delivers them.
    const later = s.apply({ uidNext: 6, highestModseq: 11, changed: [], uids: null }, true);
    expect(later.expunged).toEqual([1, 1, 1, 1]);
    expect(later.exists).toBeNull();
    expect(s.exists).toBe(0);
  });

  it("ignores changes the client already knows (own STORE)", () => {
    const s = base();
    expect(s.update({ uid: 2, modseq: 11, flags: ["\\Seen"] })).toBe(true);
    const u = s.apply(
      { uidNext: 6, highestModseq: 11, changed: [{ uid: 2, modseq: 11, flags: ["\\Seen"] }], uids: "1:3,5" },
      true,
    );
    expect(u).toEqual({ expunged: [], expungedUids: [], exists: null, flags: [] });
    expect(s.seqOf(5)).toBe(4);
    expect(s.seqOf(4)).toBe(0);
  });
});

describe("selected mailbox from a shared snapshot", () => {
  const snapshot = () =>
    new MailboxSnapshot({
      id: 1,
      name: "INBOX",
      uidValidity: 7,
      uidNext: 9,
      highestModseq: 10,
      messages: [1, 2, 4, 8].map((uid, i): [number, number, number] => [uid, uid, i < 2 ? 0 : 1]),
      flagSets: [["\\Seen"], ["\\Flagged"]],
      keywords: [],
    });

  it("finds the first unseen message before and after the per-message state exists", () => {
    const s = new SelectedMailbox(snapshot(), false);
    expect(s.firstUnseen()).toBe(3);
    expect(s.state.get(4)).toEqual({ flags: ["\\Flagged"], modseq: 4 });
    s.update({ uid: 4, modseq: 11, flags: ["\\Seen"] });
    expect(s.firstUnseen()).toBe(4);
    s.update({ uid: 8, modseq: 12, flags: ["\\Seen"] });
    expect(s.firstUnseen()).toBe(0);
  });

  it("never changes the snapshot another session may select from", () => {
    const snap = snapshot();
    const a = new SelectedMailbox(snap, false);
    a.update({ uid: 1, modseq: 11, flags: [] });
    a.remove([2]);
    const b = new SelectedMailbox(snap, false);
    expect(b.uids).toEqual([1, 2, 4, 8]);
    expect(b.state.get(1)).toEqual({ flags: ["\\Seen"], modseq: 1 });
    expect(b.firstUnseen()).toBe(3);
  });

  it("keeps new mail one session learned out of the shared snapshot", () => {
    const snap = snapshot();
    const a = new SelectedMailbox(snap, false);
    const b = new SelectedMailbox(snap, false);
    const u = a.apply(
      { uidNext: 10, highestModseq: 12, changed: [{ uid: 9, modseq: 12, flags: [] }], uids: "1:2,4,8:9" },
      true,
    );
    expect(u.exists).toBe(5);
    expect(a.uids).toEqual([1, 2, 4, 8, 9]);
    expect(b.uids).toEqual([1, 2, 4, 8]);
    expect(snap.uids).toEqual([1, 2, 4, 8]);
    expect(new SelectedMailbox(snap, false, 10).uidNext).toBe(10);
  });
});
