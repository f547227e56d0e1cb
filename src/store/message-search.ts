/**
 * Message search for the admin API and the dashboard: by sender, recipient, subject, date and
 * verdict, optionally limited to one recipient domain (a scoped token) or one user's copies (a
 * mailbox user). Newest first, walking the received-at index, so a page of results stops early.
 */
import { desc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "./db.ts";
import { blobs, ingests } from "./schema.ts";

export const VERDICT_CHECKS = ["spf", "dkim", "dmarc", "arc"] as const;
export type VerdictCheck = (typeof VERDICT_CHECKS)[number];

export interface MessageFilter {
  /** Substring of the envelope sender or the From header. */
  from?: string;
  /** Substring of any envelope recipient. */
  to?: string;
  subject?: string;
  /** received_at bounds, ms since the epoch (until is exclusive). */
  since?: number;
  until?: number;
  /** One check's result, e.g. { check: "dmarc", result: "fail" }; "none" also matches an absent check. */
  verdict?: { check: VerdictCheck; result: string };
  /** Only messages with a recipient in this domain. */
  domain?: string;
  /** Only messages with a copy in this user's mailboxes. */
  userId?: number;
  limit?: number;
  offset?: number;
}

export interface Verdicts {
  spf: string | null;
  dkim: string | null;
  dmarc: string | null;
  arc: string | null;
}

export interface MessageHit {
  id: string;
  receivedAt: number;
  mailFrom: string;
  rcptTo: string[];
  from: string | null;
  to: string[];
  subject: string | null;
  date: string | null;
  messageId: string | null;
  size: number;
  verdicts: Verdicts;
}

/** `LIKE` pattern for a literal substring (with `\` as the escape character). */
export function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, "\\$&")}%`;
}

/** True when one of the message's envelope recipients is in `domain`. */
export function recipientInDomain(domain: string): SQL {
  const pattern = `%@${domain.toLowerCase().replace(/[\\%_]/g, "\\$&")}`;
  return sql`exists (select 1 from json_each(${ingests.envelope}, '$.rcptTo') r where lower(r.value) like ${pattern} escape '\\')`;
}

/** True when the message has a copy in one of `userId`'s mailboxes. */
export function copiedToUser(userId: number): SQL {
  return sql`exists (select 1 from messages m join mailboxes mb on mb.id = m.mailbox_id where m.ingest_id = ${ingests.id} and mb.user_id = ${userId})`;
}

function verdictCondition(check: VerdictCheck, result: string): SQL {
  const r = result.toLowerCase();
  if (check === "dkim") {
    if (r === "none") return sql`coalesce(json_array_length(${ingests.auth}, '$.dkim'), 0) = 0`;
    return sql`exists (select 1 from json_each(${ingests.auth}, '$.dkim') k where json_extract(k.value, '$.result') = ${r})`;
  }
  const path = `$.${check}.result`;
  if (r === "none") return sql`coalesce(json_extract(${ingests.auth}, ${path}), 'none') = 'none'`;
  return sql`json_extract(${ingests.auth}, ${path}) = ${r}`;
}

export function filterConditions(f: MessageFilter): SQL[] {
  const where: SQL[] = [];
  if (f.from) {
    const p = likeContains(f.from);
    where.push(
      sql`(lower(json_extract(${ingests.envelope}, '$.mailFrom')) like ${p} escape '\\' or lower(coalesce(json_extract(${ingests.summary}, '$.from'), '')) like ${p} escape '\\')`,
    );
  }
  if (f.to) {
    const p = likeContains(f.to);
    where.push(
      sql`exists (select 1 from json_each(${ingests.envelope}, '$.rcptTo') t where lower(t.value) like ${p} escape '\\')`,
    );
  }
  if (f.subject) {
    where.push(
      sql`lower(coalesce(json_extract(${ingests.summary}, '$.subject'), '')) like ${likeContains(f.subject)} escape '\\'`,
    );
  }
  if (f.since !== undefined) where.push(sql`${ingests.receivedAt} >= ${f.since}`);
  if (f.until !== undefined) where.push(sql`${ingests.receivedAt} < ${f.until}`);
  if (f.verdict) where.push(verdictCondition(f.verdict.check, f.verdict.result));
  if (f.domain) where.push(recipientInDomain(f.domain));
  if (f.userId !== undefined) where.push(copiedToUser(f.userId));
  return where;
}

export async function searchMessages(db: Db, f: MessageFilter): Promise<MessageHit[]> {
  const where = filterConditions(f);
  const rows = await db
    .select({
      id: ingests.id,
      receivedAt: ingests.receivedAt,
      envelope: ingests.envelope,
      summary: ingests.summary,
      size: blobs.size,
      spf: sql<string | null>`json_extract(${ingests.auth}, '$.spf.result')`,
      dkim: sql<
        string | null
      >`(select group_concat(json_extract(k.value, '$.result'), ' ') from json_each(${ingests.auth}, '$.dkim') k)`,
      dmarc: sql<string | null>`json_extract(${ingests.auth}, '$.dmarc.result')`,
      arc: sql<string | null>`json_extract(${ingests.auth}, '$.arc.result')`,
    })
    .from(ingests)
    .innerJoin(blobs, eq(blobs.id, ingests.blobId))
    .where(where.length > 0 ? sql.join(where, sql` and `) : undefined)
    .orderBy(desc(ingests.receivedAt), desc(ingests.id))
    .limit(Math.min(Math.max(f.limit ?? 50, 1), 500))
    .offset(Math.max(f.offset ?? 0, 0));
  return rows.map((r) => ({
    id: r.id,
    receivedAt: r.receivedAt,
    mailFrom: r.envelope.mailFrom,
    rcptTo: r.envelope.rcptTo,
    from: r.summary.from,
    to: r.summary.to,
    subject: r.summary.subject,
    date: r.summary.date,
    messageId: r.summary.messageId,
    size: r.size,
    verdicts: { spf: r.spf, dkim: r.dkim, dmarc: r.dmarc, arc: r.arc },
  }));
}

/** True when message `id` passes the scope part of `f` (domain, user): the check behind a 404. */
export async function messageInScope(
  db: Db,
  id: string,
  scope: Pick<MessageFilter, "domain" | "userId">,
): Promise<boolean> {
  const where = [sql`${ingests.id} = ${id}`, ...filterConditions(scope)];
  const row = await db.select({ id: ingests.id }).from(ingests).where(sql.join(where, sql` and `)).get();
  return row !== undefined;
}
