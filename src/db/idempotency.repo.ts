/**
 * Idempotency keys. A key is reserved with an INSERT before the request runs, so of two
 * concurrent requests with one key exactly one proceeds; a completed key stores the response.
 * Keys older than IDEMPOTENCY_KEY_TTL_MS are dead: dropped when their key is reused, and purged
 * by the scheduler otherwise.
 */
import { and, asc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { idempotencyKeys } from "./schema";

/** How long a key is honoured after its request arrived, ms (24 hours). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

/** Where a key is scoped: account and `METHOD route`. */
export interface IdempotencyScope {
  accountId: string;
  scope: string;
  key: string;
}

/** A stored key. */
export interface IdempotencyRecord {
  requestHash: string;
  state: "in_progress" | "completed";
  response: { status: number; body: string; headers: Record<string, string> } | null;
  createdAtMs: number;
}

const where = (s: IdempotencyScope) =>
  and(
    eq(idempotencyKeys.accountId, s.accountId),
    eq(idempotencyKeys.scope, s.scope),
    eq(idempotencyKeys.key, s.key),
  );

/**
 * Reserves a key for a request with body hash `requestHash`. Records created before
 * `staleBeforeMs` are dropped first (an expired key, or a reservation whose request died).
 * @returns true when reserved; false when the key is taken (read it with getIdempotencyKey).
 */
export async function reserveIdempotencyKey(
  db: Db,
  s: IdempotencyScope,
  requestHash: string,
  nowMs: number,
  staleBeforeMs: number,
): Promise<boolean> {
  await db
    .delete(idempotencyKeys)
    .where(and(where(s), lt(idempotencyKeys.createdAtMs, staleBeforeMs)));
  const rows = await db
    .insert(idempotencyKeys)
    .values({ ...s, requestHash, state: "in_progress", createdAtMs: nowMs })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  return rows.length > 0;
}

/** The stored key, or undefined. */
export async function getIdempotencyKey(
  db: Db,
  s: IdempotencyScope,
): Promise<IdempotencyRecord | undefined> {
  const rows = await db.select().from(idempotencyKeys).where(where(s));
  const row = rows[0];
  if (row === undefined) {
    return undefined;
  }
  return {
    requestHash: row.requestHash,
    state: row.state,
    response:
      row.responseStatus === null || row.responseBody === null
        ? null
        : {
            status: row.responseStatus,
            body: row.responseBody,
            headers: JSON.parse(row.responseHeadersJson ?? "{}") as Record<string, string>,
          },
    createdAtMs: row.createdAtMs,
  };
}

/** Stores the response of the request that reserved the key. */
export async function completeIdempotencyKey(
  db: Db,
  s: IdempotencyScope,
  response: { status: number; body: string; headers: Record<string, string> },
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({
      state: "completed",
      responseStatus: response.status,
      responseBody: response.body,
      responseHeadersJson: JSON.stringify(response.headers),
    })
    .where(where(s));
}

/** Frees a reservation whose request failed, so a retry can run. */
export async function releaseIdempotencyKey(db: Db, s: IdempotencyScope): Promise<void> {
  await db.delete(idempotencyKeys).where(and(where(s), eq(idempotencyKeys.state, "in_progress")));
}

/**
 * Deletes the keys of every account created before `createdBeforeMs` (exclusive), oldest first
 * and at most `limit` of them, so one call does bounded work however large the backlog.
 */
export async function purgeIdempotencyKeys(
  db: Db,
  createdBeforeMs: number,
  limit: number,
): Promise<void> {
  // A key is three columns; SQLite's rowid lets the subquery name the rows it picked.
  const oldest = db
    .select({ rowid: sql`rowid` })
    .from(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAtMs, createdBeforeMs))
    .orderBy(asc(idempotencyKeys.createdAtMs))
    .limit(limit);
  await db.delete(idempotencyKeys).where(inArray(sql`rowid`, oldest));
}
