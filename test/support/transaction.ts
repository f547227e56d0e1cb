/** A relay Transaction for tests and benchmarks that call the edge's relay route directly. */
import { directConnection } from "../../src/connection.ts";
import type { Transaction } from "../../src/contract.ts";

export function testTransaction(opts: {
  mailFrom: string;
  rcptTo: string[];
  clientIp?: string;
  helo?: string;
}): Transaction {
  return {
    version: 1,
    mailFrom: opts.mailFrom,
    rcptTo: opts.rcptTo,
    declaredSize: null,
    body: null,
    smtputf8: false,
    dsn: null,
    session: {
      helo: opts.helo ?? "mail.sender.test",
      user: null,
      protocol: "ESMTP",
      rdns: null,
      connection: directConnection(
        { address: opts.clientIp ?? "192.0.2.7", port: 40000 },
        { address: "127.0.0.1", port: 25 },
      ),
    },
  };
}
