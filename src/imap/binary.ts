/** BINARY (RFC 3516): a part's body with its Content-Transfer-Encoding undone. */
import { headerValue, type MimePart } from "./mime.ts";

function decodeBase64(bytes: Uint8Array): Uint8Array {
  let text = "";
  for (const b of bytes) if (/[A-Za-z0-9+/]/.test(String.fromCharCode(b))) text += String.fromCharCode(b);
  text = text.slice(0, text.length - (text.length % 4 === 1 ? 1 : 0));
  const padded = text + "===".slice((text.length + 3) % 4);
  const bin = atob(padded);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  const hex = (c: number | undefined) =>
    c === undefined
      ? -1
      : c >= 48 && c <= 57
        ? c - 48
        : c >= 65 && c <= 70
          ? c - 55
          : c >= 97 && c <= 102
            ? c - 87
            : -1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b !== 0x3d) {
      out.push(b);
      continue;
    }
    // Soft line break: "=" followed by optional white space and CRLF or LF.
    let j = i + 1;
    while (bytes[j] === 0x20 || bytes[j] === 0x09) j++;
    if (bytes[j] === 0x0d && bytes[j + 1] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (bytes[j] === 0x0a) {
      i = j;
      continue;
    }
    const hi = hex(bytes[i + 1]);
    const lo = hex(bytes[i + 2]);
    if (hi >= 0 && lo >= 0) {
      out.push(hi * 16 + lo);
      i += 2;
    } else out.push(b);
  }
  return Uint8Array.from(out);
}

/** The decoded body of `part`, or null for an encoding we do not know (NO [UNKNOWN-CTE]). */
export function decodedBody(raw: Uint8Array, part: MimePart): Uint8Array | null {
  const body = raw.subarray(part.bodyStart, part.end);
  const cte = (headerValue(part.headers, "content-transfer-encoding") ?? "7bit").trim().toLowerCase();
  if (cte === "7bit" || cte === "8bit" || cte === "binary") return body;
  if (cte === "base64") return decodeBase64(body);
  if (cte === "quoted-printable") return decodeQuotedPrintable(body);
  return null;
}
