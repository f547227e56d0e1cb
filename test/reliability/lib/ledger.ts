/**
 * What was sent, what got a 250, and what the store holds. Each message carries an `X-Reliability-Id`
 * header and a Message-ID (so a retried message is recognised by content, see
 * src/pipeline/idempotency.ts); its body's SHA-256 is compared with the stored copy's body.
 */
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DOMAIN, USER } from "./procs.ts";

export interface Sent {
  id: string;
  raw: string;
  bodySha: string;
  /** 250s received for it (a retry after a lost 250 may give a second). */
  accepted: number;
  attempts: number;
}

const LINE = 76;

function body(bytes: number): string {
  // Base64 text lines, with the odd leading dot so dot-stuffing is exercised.
  const lines: string[] = [];
  let n = 0;
  while (n < bytes) {
    let l = randomBytes(57).toString("base64");
    if (Math.random() < 0.02) l = `.${l.slice(1)}`;
    lines.push(l.slice(0, LINE));
    n += l.length + 2;
  }
  return `${lines.join("\r\n")}\r\n`;
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export class Ledger {
  readonly sent = new Map<string, Sent>();
  readonly prefix: string;
  #n = 0;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** A new message; `bytes` is the body size (default: mostly small, now and then over one 512 KiB chunk). */
  make(bytes?: number): Sent {
    const id = `${this.prefix}-${++this.#n}-${randomBytes(4).toString("hex")}`;
    const size =
      bytes ??
      (Math.random() < 0.03
        ? 600_000 + Math.floor(Math.random() * 600_000)
        : 500 + Math.floor(Math.random() * 6000));
    const b = body(size);
    const raw =
      `From: load@sender.test\r\nTo: ${USER}\r\nSubject: reliability ${id}\r\n` +
      `Message-ID: <${id}@sender.test>\r\nX-Reliability-Id: ${id}\r\nDate: ${new Date().toUTCString()}\r\n\r\n${b}`;
    const s: Sent = { id, raw, bodySha: sha256(b), accepted: 0, attempts: 0 };
    this.sent.set(id, s);
    return s;
  }

  get acceptedCount(): number {
    let n = 0;
    for (const s of this.sent.values()) if (s.accepted > 0) n++;
    return n;
  }
}

export interface StoreReport {
  /** Distinct ledger messages found in the mailbox. */
  stored: number;
  /** Extra copies (the same X-Reliability-Id in more than one message row or ingest). */
  duplicated: number;
  /** Accepted (250) but not in the store. */
  missing: string[];
  /** Stored with a body whose SHA-256 differs from what was sent, or chunks not matching blobs.sha256. */
  corrupt: string[];
  /** Stored although never accepted (allowed only while a sender still retries; 0 at the end). */
  unaccepted: number;
  integrity: string;
  foreignKeys: number;
}

/** Reads the SQLite store directly (the server should be stopped) and checks every ledger message. */
export function verifyStore(dataDir: string, ledgers: Ledger[]): StoreReport {
  const db = new DatabaseSync(join(dataDir, "mxedge.db"), { readOnly: true });
  try {
    const integrity = (db.prepare("PRAGMA integrity_check").all() as Array<Record<string, string>>)
      .map((r) => Object.values(r)[0])
      .join("; ");
    const foreignKeys = db.prepare("PRAGMA foreign_key_check").all().length;
    const rows = db
      .prepare(
        `SELECT m.id AS id, m.blob_id AS blob, b.sha256 AS sha, b.size AS size
           FROM messages m JOIN blobs b ON b.id = m.blob_id
           JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN users u ON u.id = mb.user_id
          WHERE mb.name = 'INBOX' AND u.login = ?`,
      )
      .all(USER) as Array<{ id: number; blob: string; sha: string; size: number }>;
    const chunks = db.prepare("SELECT data FROM blob_chunks WHERE blob_id = ? ORDER BY seq");
    const copies = new Map<string, number>();
    const corrupt: string[] = [];
    const all = new Map<string, Sent>();
    for (const l of ledgers) for (const [k, v] of l.sent) all.set(k, v);
    for (const r of rows) {
      const parts = chunks.all(r.blob) as Array<{ data: Uint8Array }>;
      const raw = Buffer.concat(parts.map((p) => p.data));
      const head = raw.subarray(0, Math.min(raw.length, 64 * 1024)).toString("latin1");
      const id = /\r\nX-Reliability-Id: (\S+)\r\n/.exec(head)?.[1];
      if (!id) continue;
      copies.set(id, (copies.get(id) ?? 0) + 1);
      const sep = head.indexOf("\r\n\r\n");
      const sent = all.get(id);
      const intact =
        raw.length === r.size &&
        sha256(raw) === r.sha &&
        sent !== undefined &&
        sha256(raw.subarray(sep + 4)) === sent.bodySha;
      if (!intact) corrupt.push(id);
    }
    const ingests = db.prepare("SELECT summary FROM ingests").all() as Array<{ summary: string }>;
    const ingestCopies = new Map<string, number>();
    for (const i of ingests) {
      const mid = /"messageId":"<([^@"]+)@sender\.test>"/.exec(i.summary)?.[1];
      if (mid && all.has(mid)) ingestCopies.set(mid, (ingestCopies.get(mid) ?? 0) + 1);
    }
    let duplicated = 0;
    for (const n of copies.values()) duplicated += n - 1;
    for (const n of ingestCopies.values()) duplicated += Math.max(0, n - 1);
    const missing: string[] = [];
    let unaccepted = 0;
    for (const s of all.values()) {
      if (s.accepted > 0 && !copies.has(s.id)) missing.push(s.id);
      if (s.accepted === 0 && copies.has(s.id)) unaccepted++;
    }
    return { stored: copies.size, duplicated, missing, corrupt, unaccepted, integrity, foreignKeys };
  } finally {
    db.close();
  }
}

export const FROM = `sender@${"sender.test"}`;
export { DOMAIN };
