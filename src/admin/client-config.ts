/**
 * Mail client self-configuration, generated from the installation's host names and ports:
 * Thunderbird's autoconfig `config-v1.1.xml` and an Apple configuration profile (`.mobileconfig`)
 * for one address. Neither contains a password: clients ask the user for it.
 */
import type { MailService } from "./mail-service.ts";

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function thunderbirdAutoconfig(domain: string, service: MailService): string {
  const server = (tag: "incomingServer" | "outgoingServer", type: string, port: number, socket: string) =>
    [
      `    <${tag} type="${type}">`,
      `      <hostname>${xml(service.mailHost)}</hostname>`,
      `      <port>${port}</port>`,
      `      <socketType>${socket}</socketType>`,
      "      <authentication>password-cleartext</authentication>",
      "      <username>%EMAILADDRESS%</username>",
      `    </${tag}>`,
    ].join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${xml(domain)}">
    <domain>${xml(domain)}</domain>
    <displayName>${xml(domain)}</displayName>
    <displayShortName>${xml(domain)}</displayShortName>
${server("incomingServer", "imap", service.ports.imaps, "SSL")}
${server("incomingServer", "imap", service.ports.imap, "STARTTLS")}
${server("outgoingServer", "smtp", service.ports.submissions, "SSL")}
${server("outgoingServer", "smtp", service.ports.submission, "STARTTLS")}
  </emailProvider>
</clientConfig>
`;
}

/** A stable UUID for a name, so re-installing a profile replaces the previous one. */
async function nameUuid(name: string): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name))).slice(
    0,
    16,
  );
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`.toUpperCase();
}

export async function appleMobileconfig(address: string, service: MailService): Promise<string> {
  const domain = address.slice(address.lastIndexOf("@") + 1);
  const reversed = domain.split(".").reverse().join(".");
  const s = (k: string, v: string) => `<key>${k}</key><string>${xml(v)}</string>`;
  const i = (k: string, v: number) => `<key>${k}</key><integer>${v}</integer>`;
  const b = (k: string, v: boolean) => `<key>${k}</key><${v}/>`;
  const account = [
    s("EmailAccountDescription", address),
    s("EmailAccountType", "EmailTypeIMAP"),
    s("EmailAddress", address),
    s("IncomingMailServerAuthentication", "EmailAuthPassword"),
    s("IncomingMailServerHostName", service.mailHost),
    i("IncomingMailServerPortNumber", service.ports.imaps),
    b("IncomingMailServerUseSSL", true),
    s("IncomingMailServerUsername", address),
    s("OutgoingMailServerAuthentication", "EmailAuthPassword"),
    s("OutgoingMailServerHostName", service.mailHost),
    i("OutgoingMailServerPortNumber", service.ports.submissions),
    b("OutgoingMailServerUseSSL", true),
    s("OutgoingMailServerUsername", address),
    b("OutgoingPasswordSameAsIncomingPassword", true),
    s("PayloadDescription", `Mail account ${address}`),
    s("PayloadDisplayName", address),
    s("PayloadIdentifier", `${reversed}.mxedge.mail.${address}`),
    s("PayloadType", "com.apple.mail.managed"),
    s("PayloadUUID", await nameUuid(`mail:${address}`)),
    i("PayloadVersion", 1),
  ];
  const profile = [
    s("PayloadDescription", `Mail settings for ${address}; you will be asked for the password.`),
    s("PayloadDisplayName", `${domain} mail`),
    s("PayloadIdentifier", `${reversed}.mxedge.${address}`),
    s("PayloadOrganization", domain),
    b("PayloadRemovalDisallowed", false),
    s("PayloadType", "Configuration"),
    s("PayloadUUID", await nameUuid(`profile:${address}`)),
    i("PayloadVersion", 1),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
<key>PayloadContent</key>
<array>
<dict>
${account.join("\n")}
</dict>
</array>
${profile.join("\n")}
</dict>
</plist>
`;
}
