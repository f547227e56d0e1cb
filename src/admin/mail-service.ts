/**
 * Where mail clients and other servers reach this installation: host names and public ports. Built
 * from the configuration (hostname, listener ports, publicUrl) and used by the DNS records, the
 * MTA-STS policy and client autoconfiguration.
 */
export interface MailService {
  /** The MX host and the host mail clients connect to. */
  mailHost: string;
  /** The edge's HTTPS host, target of the mta-sts.<domain> and autoconfig.<domain> names. */
  webHost: string;
  ports: { submissions: number; submission: number; imaps: number; imap: number };
}

export const DEFAULT_PORTS: MailService["ports"] = {
  submissions: 465,
  submission: 587,
  imaps: 993,
  imap: 143,
};

export function mailService(opts: {
  hostname?: string;
  publicUrl?: string;
  ports?: Partial<MailService["ports"]>;
}): MailService {
  const mailHost = (opts.hostname ?? "mx.invalid").toLowerCase().replace(/\.$/, "");
  let webHost = mailHost;
  if (opts.publicUrl) {
    try {
      webHost = new URL(opts.publicUrl).hostname.toLowerCase();
    } catch {}
  }
  return { mailHost, webHost, ports: { ...DEFAULT_PORTS, ...opts.ports } };
}
