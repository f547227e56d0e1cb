/**
 * The reply without what it quotes: cut at the first attribution line ("On … wrote:", "Le … a écrit :",
 * "Am … schrieb …:"), an Outlook "-----Original Message-----" or "From: … Sent: …" block, or a run of
 * ">"-quoted lines that lasts to the end; trailing signature ("-- ") is removed too.
 */
const ATTRIBUTION = [
  /^On\b.{0,200}\bwrote:\s*$/i,
  /^Le\b.{0,200}\ba écrit\s*:\s*$/i,
  /^Am\b.{0,200}\bschrieb\b.{0,100}:\s*$/i,
  /^-{2,}\s*Original Message\s*-{2,}\s*$/i,
  /^_{10,}\s*$/,
];

export function stripQuotedReply(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (ATTRIBUTION.some((re) => re.test(line.trim()))) {
      end = i;
      break;
    }
    if (/^From:\s/i.test(line) && /^(Sent|Date):\s/i.test(lines[i + 1] ?? "")) {
      end = i;
      break;
    }
    if (line.startsWith(">") && lines.slice(i).every((l) => l.startsWith(">") || l.trim() === "")) {
      end = i;
      break;
    }
  }
  let kept = lines.slice(0, end);
  const sig = kept.lastIndexOf("-- ");
  if (sig >= 0) kept = kept.slice(0, sig);
  return kept.join("\n").trim();
}
