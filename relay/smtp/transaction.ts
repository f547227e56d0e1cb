/** Turns smtp-server's session into the contract's typed, versioned Transaction. */
import type { SMTPServerSession } from "smtp-server";
import type { ConnectionInfo } from "../../src/connection.ts";
import type { SessionInfo, Transaction } from "../../src/contract.ts";

/** TLS state: the proxy's, if it terminated TLS, else this relay's own socket (implicit or STARTTLS). */
export function sessionConnection(info: ConnectionInfo, session: SMTPServerSession): ConnectionInfo {
  if (info.tls || !session.secure) return info;
  const t = session.tlsOptions;
  return {
    ...info,
    tls: {
      terminatedBy: "relay",
      version: t ? t.version : null,
      cipher: t ? t.name : null,
      sni: typeof session.servername === "string" ? session.servername : null,
      clientCertCn: null,
      clientCertVerified: false,
    },
  };
}

export function sessionInfo(info: ConnectionInfo, session: SMTPServerSession): SessionInfo {
  const connection = sessionConnection(info, session);
  const user = typeof session.user === "string" ? session.user : null;
  const protocol = `${session.transmissionType?.startsWith("LMTP") ? "LMTP" : "ESMTP"}${connection.tls ? "S" : ""}${user ? "A" : ""}`;
  const rdns =
    session.clientHostname && !session.clientHostname.startsWith("[") ? session.clientHostname : null;
  return { helo: session.hostNameAppearsAs ?? "", user, protocol, rdns, connection };
}

export function buildTransaction(info: ConnectionInfo, session: SMTPServerSession): Transaction {
  const env = session.envelope;
  const from = env.mailFrom;
  const args: Record<string, string | boolean | undefined> =
    from && from.args !== false ? (from.args as Record<string, string | boolean | undefined>) : {};
  const size = Number(args.SIZE);
  const bodyArg = typeof args.BODY === "string" ? args.BODY.toUpperCase() : null;
  const notify: Record<string, string[]> = {};
  const orcpt: Record<string, string> = {};
  for (const r of env.rcptTo) {
    if (r.dsn?.notify) notify[r.address] = r.dsn.notify;
    if (r.dsn?.orcpt) orcpt[r.address] = r.dsn.orcpt;
  }
  const dsn =
    env.dsn || Object.keys(notify).length > 0 || Object.keys(orcpt).length > 0
      ? {
          ret: (env.dsn?.ret as "FULL" | "HDRS" | null) ?? null,
          envid: env.dsn?.envid ?? null,
          notify,
          orcpt,
        }
      : null;
  return {
    version: 1,
    mailFrom: from ? from.address : "",
    rcptTo: env.rcptTo.map((r) => r.address),
    declaredSize: Number.isFinite(size) && size >= 0 ? size : null,
    body: bodyArg === "8BITMIME" || bodyArg === "7BIT" || bodyArg === "BINARYMIME" ? bodyArg : null,
    smtputf8: args.SMTPUTF8 === true || args.SMTPUTF8 === "true",
    dsn,
    session: sessionInfo(info, session),
  };
}
