import type { MailService } from "../src/admin/mail-service.ts";
import type { Cidr } from "../src/net/cidr.ts";
import type { PipelineDeps } from "../src/pipeline/pipeline.ts";

/** What every edge route gets: the store, the clock and the limits, chosen by the runtime entry. */
export interface EdgeContext extends PipelineDeps {
  relaySecret: string;
  adminToken: string;
  /** The largest message the edge accepts (and the relay advertises with SIZE). */
  maxMessageBytes: number;
  /** IMAP QUOTA default per user in bytes; null = unlimited. */
  quotaBytes?: number | null;
  /** Key for the signed download links in webhook payloads. */
  urlSigningKey: string;
  /** CIDRs webhook targets may be in despite being private (admin API checks). */
  webhookAllow: Cidr[];
  /** Host names and ports for DNS records, MTA-STS and client autoconfig. */
  mailService: MailService;
  /** Secret that encrypts DKIM private keys at rest; without it DKIM keys cannot be made or used. */
  dkimSecret?: string;
}
