/** BODY and BODYSTRUCTURE (RFC 3501 §7.4.2) from the MIME walker's tree. */
import { encodeToString, type ImapValue } from "./encode.ts";
import { envelope } from "./envelope.ts";
import { countLines, headerValue, type MimePart, parseParams } from "./mime.ts";

function paramList(params: Array<[string, string]>, skip: string[] = []): ImapValue {
  // RFC 2231 extended parameters (name*) after the plain ones, as Dovecot lists them.
  const kept = params
    .filter(([k]) => !skip.includes(k))
    .sort((a, b) => Number(a[0].includes("*")) - Number(b[0].includes("*")));
  return kept.length ? kept.flatMap(([k, v]) => [k.toUpperCase(), v]) : null;
}

function disposition(part: MimePart): ImapValue {
  const d = headerValue(part.headers, "content-disposition");
  if (!d) return null;
  const { main, params } = parseParams(d);
  return main ? [main.toUpperCase(), paramList(params)] : null;
}

function language(part: MimePart): ImapValue {
  const l = headerValue(part.headers, "content-language");
  if (!l) return null;
  const langs = l
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return langs.length === 1 ? (langs[0] as string) : langs.length ? langs : null;
}

/** `extended` gives BODYSTRUCTURE; without it, BODY. */
export function bodyStructure(raw: Uint8Array, part: MimePart, extended: boolean): ImapValue {
  if (part.type === "multipart") {
    const children = part.children.map((c) => bodyStructure(raw, c, extended));
    // A multipart with no parts still needs one body to be well-formed.
    const kids: ImapValue[] = children.length
      ? children
      : [["TEXT", "PLAIN", ["CHARSET", "US-ASCII"], null, null, "7BIT", 0, 0]];
    // body-type-mpart = 1*body SP media-subtype: the bodies are not separated by spaces.
    const out: ImapValue[] = [{ atom: kids.map(encodeToString).join("") }, part.subtype.toUpperCase()];
    if (extended) {
      out.push(
        paramList(part.params),
        disposition(part),
        language(part),
        headerValue(part.headers, "content-location"),
      );
    }
    return out;
  }
  const size = part.end - part.bodyStart;
  // A text part without a charset is us-ascii (RFC 2045 §5.2); say so, as Dovecot does.
  const params: Array<[string, string]> =
    part.type === "text" && !part.params.some(([k]) => k === "charset")
      ? [["charset", "us-ascii"], ...part.params]
      : part.params;
  const out: ImapValue[] = [
    part.type.toUpperCase(),
    part.subtype.toUpperCase(),
    paramList(params),
    headerValue(part.headers, "content-id"),
    headerValue(part.headers, "content-description"),
    (headerValue(part.headers, "content-transfer-encoding") ?? "7BIT").trim().toUpperCase(),
    size,
  ];
  if (part.message) {
    out.push(envelope(part.message.headers), bodyStructure(raw, part.message, extended));
    out.push(countLines(raw, part.bodyStart, part.end));
  } else if (part.type === "text") {
    out.push(countLines(raw, part.bodyStart, part.end));
  }
  if (extended) {
    out.push(
      headerValue(part.headers, "content-md5"),
      disposition(part),
      language(part),
      headerValue(part.headers, "content-location"),
    );
  }
  return out;
}
