/**
 * The audit log: every write and every secret read (who, which request, before, after), newest
 * first. Entries of one scope (an account id, or `*` for identity writes) form a hash chain in
 * insertion order: writers insert unsealed rows inside their own batch, and `sealAuditChain`
 * then fills `prev_hash` and `hash` in rowid order. Sealing is deterministic (the hash depends
 * only on the previous hash and the entry), so two sealers racing write the same values.
 */
import { and, asc, desc, eq, gt, gte, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { sha256Hex } from "../lib/hmac";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { auditLog } from "./schema";

/** The scope of writes that belong to no account (API keys, Access role bindings). */
export const GLOBAL_AUDIT_SCOPE = "*";

/** The `prev_hash` of the first entry ever written in a scope. */
export const GENESIS_HASH = "0".repeat(64);

/** Who made a change, for the audit log. */
export interface Actor {
  /** `key:<name>`, `access:<email>`, `bootstrap-admin`, or `reconciler`. */
  name: string;
  /** The API request that made it; absent for background work. */
  requestId?: string;
}

/** One audit entry. `before`/`after` are as stored, secrets already redacted. */
export interface AuditEntry {
  id: string;
  actor: string;
  requestId: string | null;
  action: string;
  kind: string;
  objectId: string;
  before: unknown;
  after: unknown;
  atMs: number;
  prevHash: string | null;
  hash: string | null;
  /** Insertion sequence (SQLite rowid): orders entries written in the same millisecond. */
  seq: number;
}

/** What a writer records. `before`/`after` undefined or null are stored as null. */
export interface NewAuditEntry {
  scope: string;
  actor: Actor;
  action: string;
  kind: string;
  objectId: string;
  before: unknown;
  after: unknown;
  atMs: number;
}

/** The row for `entry`, unsealed; insert it in the same batch as the write it describes. */
export function newAuditRow(entry: NewAuditEntry): typeof auditLog.$inferInsert {
  return {
    id: crypto.randomUUID(),
    accountId: entry.scope,
    actor: entry.actor.name,
    requestId: entry.actor.requestId ?? null,
    action: entry.action,
    kind: entry.kind,
    objectId: entry.objectId,
    beforeJson: entry.before == null ? null : JSON.stringify(entry.before),
    afterJson: entry.after == null ? null : JSON.stringify(entry.after),
    atMs: entry.atMs,
  };
}

/** Inserts one entry on its own (writes that have no batch of their own). */
export async function appendAuditEntry(db: Db, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values(newAuditRow(entry));
}

const rowid = sql<number>`rowid`;
type Row = typeof auditLog.$inferSelect;

function fromRow(row: Row, seq: number): AuditEntry {
  return {
    id: row.id,
    actor: row.actor,
    requestId: row.requestId,
    action: row.action,
    kind: row.kind,
    objectId: row.objectId,
    before: row.beforeJson === null ? null : JSON.parse(row.beforeJson),
    after: row.afterJson === null ? null : JSON.parse(row.afterJson),
    atMs: row.atMs,
    prevHash: row.prevHash,
    hash: row.hash,
    seq,
  };
}

/** The chain hash of `row` after `prevHash`: SHA-256 over the previous hash and every field. */
function chainHash(prevHash: string, row: Row): Promise<string> {
  const fields = [
    row.id,
    row.accountId,
    row.actor,
    row.requestId,
    row.action,
    row.kind,
    row.objectId,
    row.beforeJson,
    row.afterJson,
    row.atMs,
  ];
  return sha256Hex(`${prevHash}\n${JSON.stringify(fields)}`);
}

/**
 * Entries newest first (by insertion sequence), optionally for one object, `limit + 1` rows for
 * paging. The page position is the last entry's `seq`, carried in the cursor's `atMs` slot.
 */
export async function listAuditEntries(
  db: Db,
  scope: string,
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
        eq(auditLog.accountId, scope),
        filter.objectId === undefined ? undefined : eq(auditLog.objectId, filter.objectId),
        position,
      ),
    )
    .orderBy(desc(rowid))
    .limit(limit + 1);
  return rows.map(({ row, seq }) => fromRow(row, seq));
}

const SEAL_BATCH = 100;

/**
 * Seals the scope's unsealed entries in insertion order, each after the hash of the one before
 * (`GENESIS_HASH` for the first of an empty scope).
 * @returns how many entries were sealed.
 */
export async function sealAuditChain(db: Db, scope: string): Promise<number> {
  let sealed = 0;
  for (;;) {
    const pending = await db
      .select({ row: auditLog, seq: rowid })
      .from(auditLog)
      .where(and(eq(auditLog.accountId, scope), isNull(auditLog.hash)))
      .orderBy(asc(rowid))
      .limit(SEAL_BATCH);
    const first = pending[0];
    if (first === undefined) {
      return sealed;
    }
    const [previous] = await db
      .select({ hash: auditLog.hash })
      .from(auditLog)
      .where(and(eq(auditLog.accountId, scope), isNotNull(auditLog.hash), lt(rowid, first.seq)))
      .orderBy(desc(rowid))
      .limit(1);
    let prevHash = previous?.hash ?? GENESIS_HASH;
    const updates = [];
    for (const { row } of pending) {
      const hash = await chainHash(prevHash, row);
      updates.push(
        db
          .update(auditLog)
          .set({ prevHash, hash })
          .where(and(eq(auditLog.id, row.id), isNull(auditLog.hash))),
      );
      prevHash = hash;
    }
    const [head, ...rest] = updates;
    if (head !== undefined) {
      await db.batch([head, ...rest]);
    }
    sealed += pending.length;
  }
}

/** Where and why a chain does not verify. */
export interface ChainBreak {
  entryId: string;
  /** The entry's insertion sequence. */
  seq: number;
  /** `unsealed`: no hash; `prev-hash-mismatch`: an entry before it was removed or rehashed; `hash-mismatch`: its fields changed. */
  reason: "unsealed" | "prev-hash-mismatch" | "hash-mismatch";
}

/** The outcome of walking a chain. */
export interface ChainVerification {
  /** Entries whose hash was recomputed, up to and including a break. */
  checked: number;
  /** The oldest retained entry (the anchor of the walk), or null for an empty scope. */
  firstEntryId: string | null;
  /** The hash of the newest entry checked, or null for an empty scope. */
  lastHash: string | null;
  chainBreak: ChainBreak | null;
}

const VERIFY_PAGE = 500;

/**
 * Walks the scope's chain from its oldest retained entry (whose `prev_hash` is trusted, so a
 * retention prune of a prefix keeps the rest verifiable) and recomputes every hash.
 * @returns the first break, or none.
 */
export async function verifyAuditChain(db: Db, scope: string): Promise<ChainVerification> {
  let checked = 0;
  let firstEntryId: string | null = null;
  let expectedPrev: string | null = null;
  let lastSeq = 0;
  for (;;) {
    const rows = await db
      .select({ row: auditLog, seq: rowid })
      .from(auditLog)
      .where(and(eq(auditLog.accountId, scope), gt(rowid, lastSeq)))
      .orderBy(asc(rowid))
      .limit(VERIFY_PAGE);
    for (const { row, seq } of rows) {
      checked += 1;
      firstEntryId ??= row.id;
      const found = (reason: ChainBreak["reason"]) => ({
        checked,
        firstEntryId,
        lastHash: expectedPrev,
        chainBreak: { entryId: row.id, seq, reason },
      });
      if (row.hash === null || row.prevHash === null) {
        return found("unsealed");
      }
      if (expectedPrev !== null && row.prevHash !== expectedPrev) {
        return found("prev-hash-mismatch");
      }
      if ((await chainHash(row.prevHash, row)) !== row.hash) {
        return found("hash-mismatch");
      }
      expectedPrev = row.hash;
      lastSeq = seq;
    }
    if (rows.length < VERIFY_PAGE) {
      return { checked, firstEntryId, lastHash: expectedPrev, chainBreak: null };
    }
  }
}

/**
 * Retention: seals the scope, then deletes the prefix of its chain (in insertion order) up to the
 * first entry written at or after `beforeMs`, always keeping the newest entry so the chain goes
 * on from a retained hash. Deleting only a prefix keeps what remains verifiable.
 * @returns how many entries were deleted.
 */
export async function pruneAuditLog(db: Db, scope: string, beforeMs: number): Promise<number> {
  await sealAuditChain(db, scope);
  const [[firstKept], [newest]] = await Promise.all([
    db
      .select({ seq: rowid })
      .from(auditLog)
      .where(and(eq(auditLog.accountId, scope), gte(auditLog.atMs, beforeMs)))
      .orderBy(asc(rowid))
      .limit(1),
    db
      .select({ seq: rowid })
      .from(auditLog)
      .where(eq(auditLog.accountId, scope))
      .orderBy(desc(rowid))
      .limit(1),
  ]);
  const cut = firstKept?.seq ?? newest?.seq;
  if (cut === undefined) {
    return 0;
  }
  const deleted = await db
    .delete(auditLog)
    .where(and(eq(auditLog.accountId, scope), lt(rowid, cut)))
    .returning({ id: auditLog.id });
  return deleted.length;
}
