/** The audit log: every write to desired state (who, what, before, after), newest first. */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { auditLog } from "./schema";

/** One audit entry. `before`/`after` are the specs as stored (null for create/delete). */
export interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  kind: string;
  objectId: string;
  before: unknown;
  after: unknown;
  atMs: number;
  /** Insertion sequence (SQLite rowid): orders entries written in the same millisecond. */
  seq: number;
}

const rowid = sql<number>`rowid`;

/**
 * Entries newest first (by insertion sequence), optionally for one object, `limit + 1` rows for
 * paging. The page position is the last entry's `seq`, carried in the cursor's `atMs` slot.
 */
export async function listAuditEntries(
  db: Db,
  accountId: string,
  filter: { objectId?: string },
  before: CursorPosition | undefined,
  limit: number,
): Promise<AuditEntry[]> {
  const position = before === undefined ? undefined : lt(rowid, before.atMs);
  const rows = await db
    .select({ row: auditLog, seq: rowid })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.accountId, accountId),
        filter.objectId === undefined ? undefined : eq(auditLog.objectId, filter.objectId),
        position,
      ),
    )
    .orderBy(desc(rowid))
    .limit(limit + 1);
  return rows.map(({ row, seq }) => ({
    id: row.id,
    actor: row.actor,
    action: row.action,
    kind: row.kind,
    objectId: row.objectId,
    before: row.beforeJson === null ? null : JSON.parse(row.beforeJson),
    after: row.afterJson === null ? null : JSON.parse(row.afterJson),
    atMs: row.atMs,
    seq,
  }));
}
