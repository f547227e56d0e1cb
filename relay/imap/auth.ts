/** What the server offers before and after login, and SASL PLAIN decoding. */

const BASE_CAPS = [
  "IMAP4rev1",
  "IMAP4rev2",
  "LITERAL+",
  "SASL-IR",
  "ENABLE",
  "ID",
  "IDLE",
  "NAMESPACE",
  "UNSELECT",
  "UIDPLUS",
  "MOVE",
  "CONDSTORE",
  "QRESYNC",
  "SPECIAL-USE",
  "LIST-EXTENDED",
  "LIST-STATUS",
  "ESEARCH",
  "SEARCHRES",
  "STATUS=SIZE",
  "UTF8=ACCEPT",
  "BINARY",
  "QUOTA",
  "QUOTA=RES-STORAGE",
];

/** Offered once logged in (RFC 4978 allows COMPRESS only in the authenticated states). */
const AUTHENTICATED_CAPS = ["COMPRESS=DEFLATE"];

/** Before login: AUTH=PLAIN only under TLS; STARTTLS where the listener offers it; LOGINDISABLED otherwise. */
export function capabilities(authenticated: boolean, tls: boolean, startTls: boolean): string[] {
  const caps = [...BASE_CAPS];
  if (!authenticated) {
    if (tls) caps.push("AUTH=PLAIN");
    else caps.push(...(startTls ? ["STARTTLS"] : []), "LOGINDISABLED");
  } else caps.push(...AUTHENTICATED_CAPS);
  return caps;
}

export interface PlainCredentials {
  authz: string;
  authc: string;
  password: string;
}

/** RFC 4616 PLAIN: base64 of authzid NUL authcid NUL passwd; null when malformed. */
export function decodePlain(response: string): PlainCredentials | null {
  let decoded: string;
  try {
    const bytes = Uint8Array.from(atob(response === "=" ? "" : response), (c) => c.charCodeAt(0));
    decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const parts = decoded.split("\u0000");
  if (parts.length !== 3) return null;
  const [authz, authc, password] = parts as [string, string, string];
  if (authc === "") return null;
  return { authz, authc, password };
}
