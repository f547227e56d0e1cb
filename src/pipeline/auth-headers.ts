/**
 * RFC 8601 §5: an incoming Authentication-Results field that claims to come from our own authserv-id
 * is forged (we have not added ours yet) and must go before ours is prepended.
 */
import { latin1Bytes, latin1String } from "../encoding.ts";

/** The authserv-id of an Authentication-Results value: the first token, before `;`, without comments. */
function authservIdOf(value: string): string {
  return value
    .replace(/\([^)]*\)/g, " ")
    .split(";")[0]!
    .trim()
    .split(/\s+/)[0]!
    .toLowerCase();
}

/** Where the header section ends (just past the blank line), found on the bytes; the whole length if none. */
function headerEnd(raw: Uint8Array): number {
  for (let i = 0; i + 1 < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a) return i + 2;
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return i + 3;
  }
  return raw.length;
}

/** Removes every Authentication-Results field naming `authservId`; the body is untouched. */
export function stripForgedAuthResults(
  raw: Uint8Array,
  authservId: string,
): { raw: Uint8Array; removed: number } {
  const headerLength = headerEnd(raw);
  // Header bytes are treated as latin1 so every byte survives the round trip unchanged.
  const header = latin1String(raw.subarray(0, headerLength));
  if (!/^authentication-results\s*:/im.test(header)) return { raw, removed: 0 };
  const fields = header.split(/(?<=\n)(?=[^ \t])/);
  const id = authservId.toLowerCase();
  let removed = 0;
  const kept = fields.filter((f) => {
    const m = /^authentication-results\s*:(.*)$/is.exec(f);
    if (m && authservIdOf(m[1] ?? "") === id) {
      removed++;
      return false;
    }
    return true;
  });
  if (removed === 0) return { raw, removed };
  const out = latin1Bytes(kept.join(""));
  const merged = new Uint8Array(out.length + raw.length - headerLength);
  merged.set(out, 0);
  merged.set(raw.subarray(headerLength), out.length);
  return { raw: merged, removed };
}

/** An RFC 8601 pvalue: the address or login as it is when it is one, else a quoted-string. */
function pvalue(text: string): string {
  if (/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+(?:@[A-Za-z0-9.-]+)?$/.test(text)) return text;
  return `"${text.replace(/[\\"]/g, "\\$&").replace(/[\r\n]/g, "")}"`;
}

/**
 * RFC 8601 §2.7.6: the `auth` method records a successful SMTP AUTH as `smtp.auth=<identity>`. Added to
 * our Authentication-Results field as its first result, or as a field of its own when the checks did not
 * run (no resolver configured), so a submission's stored copy says who sent it.
 */
export function withSmtpAuth(headers: string, authservId: string, user: string): string {
  const result = `auth=pass smtp.auth=${pvalue(user)}`;
  const ours = new RegExp(
    `^(Authentication-Results:[ \\t]*${authservId.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[ \\t]*;)`,
    "mi",
  );
  if (ours.test(headers)) return headers.replace(ours, `$1\r\n ${result};`);
  return `${headers}Authentication-Results: ${authservId};\r\n ${result}\r\n`;
}
