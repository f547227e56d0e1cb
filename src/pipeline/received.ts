/**
 * The Received trace header (RFC 5321 §4.4), with the RFC 8314 TLS comment:
 *   Received: from <helo> (<rdns> [<ip>]) by <host> (mxedge) with ESMTPS id <id> for <rcpt>;
 *     (version=TLSv1.3 cipher=…) <date>
 */
import type { SessionInfo } from "../contract.ts";

function addressLiteral(ip: string): string {
  return ip.includes(":") ? `[IPv6:${ip}]` : `[${ip}]`;
}

/** Keeps header text on one logical line and free of anything that could start a new header. */
function clean(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ").replace(/[^\x20-\x7e]/g, "?");
}

export function receivedHeader(opts: {
  session: SessionInfo;
  hostname: string;
  id: string;
  rcptTo: string[];
  date: Date;
}): string {
  const { session } = opts;
  const conn = session.connection;
  const from = `from ${clean(session.helo || "unknown")} (${session.rdns ? `${clean(session.rdns)} ` : ""}${addressLiteral(conn.client.address)})`;
  const tls = conn.tls
    ? `\r\n\t(using ${clean(conn.tls.version ?? "TLS")}${conn.tls.cipher ? ` with cipher ${clean(conn.tls.cipher)}` : ""}${conn.tls.terminatedBy === "proxy" ? " at proxy" : ""})`
    : "";
  const forClause = opts.rcptTo.length === 1 ? `\r\n\tfor <${clean(opts.rcptTo[0] ?? "")}>` : "";
  return (
    `Received: ${from}\r\n\tby ${clean(opts.hostname)} (mxedge) with ${clean(session.protocol)} id ${opts.id}` +
    `${forClause}${tls};\r\n\t${rfc5322Date(opts.date)}\r\n`
  );
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
