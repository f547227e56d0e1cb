import { AccessStore } from "./access.ts";
import { type Db, openDb, type SqlDriver } from "./db.ts";
import { Directory } from "./directory.ts";
import { MailStore } from "./mailstore.ts";
import { MessageStore } from "./messages.ts";
import { StatsStore } from "./stats.ts";
import { WebhookStore } from "./webhooks.ts";

/** Everything the edge keeps, over one database. */
export interface Store {
  db: Db;
  directory: Directory;
  messages: MessageStore;
  /** Mailboxes and messages as IMAP sees them. */
  mail: MailStore;
  webhooks: WebhookStore;
  /** Scoped API tokens and dashboard sessions. */
  access: AccessStore;
  /** Per-hour traffic, webhook and queue figures. */
  stats: StatsStore;
}

export function createStore(driver: SqlDriver): Store {
  const db = openDb(driver);
  return {
    db,
    directory: new Directory(db),
    messages: new MessageStore(db, driver),
    mail: new MailStore(db),
    webhooks: new WebhookStore(db),
    access: new AccessStore(db),
    stats: new StatsStore(db),
  };
}

export type { Db, SqlDriver, SqlResult, SqlStatement } from "./db.ts";
export { StoreError } from "./errors.ts";
