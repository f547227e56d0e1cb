/**
 * IMAP sequence sets ("1:4,7,9:*"): parsing, membership against a mailbox's numbers, and compact
 * formatting of UID lists (for COPYUID, ESEARCH and the store API).
 */

export type SeqRange = [number, number];

/** Parses a sequence set; `*` becomes `star` (the largest number in use). Null when malformed. */
export function parseSequenceSet(text: string, star: number): SeqRange[] | null {
  if (!/^(\d+|\*)(:(\d+|\*))?(,(\d+|\*)(:(\d+|\*))?)*$/.test(text)) return null;
  const out: SeqRange[] = [];
  for (const part of text.split(",")) {
    const [a, b] = part.split(":") as [string, string | undefined];
    const x = a === "*" ? star : Number(a);
    const y = b === undefined ? x : b === "*" ? star : Number(b);
    if (x === 0 && a !== "*") return null;
    if (y === 0 && b !== "*" && b !== undefined) return null;
    out.push(x <= y ? [x, y] : [y, x]);
  }
  return out;
}

export function inRanges(ranges: SeqRange[], n: number): boolean {
  for (const [a, b] of ranges) if (n >= a && n <= b) return true;
  return false;
}

/** Sorted, de-duplicated numbers → "1:3,5,9:10". Empty list → "". */
export function formatSet(numbers: Iterable<number>): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) {
      end++;
      i++;
    }
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(",");
}

/** Expands a formatted set without `*` (as produced by formatSet). */
export function expandSet(text: string): number[] {
  if (text === "") return [];
  const out: number[] = [];
  for (const part of text.split(",")) {
    const [a, b] = part.split(":");
    const x = Number(a);
    const y = b === undefined ? x : Number(b);
    for (let n = Math.min(x, y); n <= Math.max(x, y); n++) out.push(n);
  }
  return out;
}

/** Selects the members of `sorted` (ascending UIDs) that fall in `ranges`, in order. */
export function selectUids(sorted: readonly number[], ranges: SeqRange[]): number[] {
  return sorted.filter((u) => inRanges(ranges, u));
}
