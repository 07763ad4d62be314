/**
 * What operators read about many accounts at once: a page of accounts, each one's latest run,
 * drifted objects and dead-lettered messages, and the scheduler's backlog. Each query covers a whole page (ids chunked under
 * D1's 100 bound parameters), never one query per account.
 */
import { and, count, eq, inArray, isNull, lte, min, ne, sql } from "drizzle-orm";
import type { Db } from "./client";
import { accounts, deadLetters, desiredObjects, runs } from "./schema";

/** Ids per `IN (...)`: under D1's 100 bound parameters with room for the other conditions. */
const IDS_PER_QUERY = 90;

/** The latest finished-or-running reconcile of an account (plan dry runs are not counted). */
export interface LatestRun {
  id: string;
  outcome: "running" | "succeeded" | "failed" | "partial";
  startedAtMs: number;
  finishedAtMs: number | null;
  driftCount: number;
  errors: { kind: string | null; key: string | null; message: string; retryable: boolean }[];
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IDS_PER_QUERY) {
    out.push(items.slice(i, i + IDS_PER_QUERY));
  }
  return out;
}

/** The latest non-plan run of each account in `accountIds` that has one, by account id. */
export async function latestRuns(
  db: Db,
  accountIds: readonly string[],
): Promise<Map<string, LatestRun>> {
  const latest = new Map<string, LatestRun>();
  for (const ids of chunks(accountIds)) {
    const rows = await db
      .select({
        id: runs.id,
        accountId: runs.accountId,
        outcome: runs.outcome,
        startedAtMs: runs.startedAtMs,
        finishedAtMs: runs.finishedAtMs,
        driftJson: runs.driftJson,
        errorsJson: runs.errorsJson,
      })
      .from(runs)
      .where(
        and(
          inArray(runs.accountId, ids),
          ne(runs.mode, "plan"),
          eq(
            runs.startedAtMs,
            sql`(select max(r.started_at_ms) from runs r where r.account_id = ${runs.accountId} and r.mode != 'plan')`,
          ),
        ),
      );
    for (const row of rows) {
      latest.set(row.accountId, {
        id: row.id,
        outcome: row.outcome,
        startedAtMs: row.startedAtMs,
        finishedAtMs: row.finishedAtMs,
        driftCount: (JSON.parse(row.driftJson) as unknown[]).length,
        errors: JSON.parse(row.errorsJson) as LatestRun["errors"],
      });
    }
  }
  return latest;
}

/** Counts by account id, one grouped query per chunk of ids; accounts with none are absent. */
async function countsByAccount(
  accountIds: readonly string[],
  countChunk: (ids: string[]) => Promise<{ accountId: string; n: number }[]>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const ids of chunks(accountIds)) {
    for (const row of await countChunk(ids)) {
      counts.set(row.accountId, row.n);
    }
  }
  return counts;
}

/** How many live desired objects of each account are `drifted` now, by account id. */
export function driftedObjectCounts(
  db: Db,
  accountIds: readonly string[],
): Promise<Map<string, number>> {
  return countsByAccount(accountIds, (ids) =>
    db
      .select({ accountId: desiredObjects.accountId, n: count() })
      .from(desiredObjects)
      .where(
        and(
          inArray(desiredObjects.accountId, ids),
          eq(desiredObjects.syncState, "drifted"),
          isNull(desiredObjects.deletedAtMs),
        ),
      )
      .groupBy(desiredObjects.accountId),
  );
}

/**
 * How many reconcile messages of each account the dead-letter queue holds (see
 * `GET /v1/reconcile/dead-letters`), by account id; accounts with none are absent.
 */
export function deadLetterCounts(
  db: Db,
  accountIds: readonly string[],
): Promise<Map<string, number>> {
  return countsByAccount(accountIds, (ids) =>
    db
      .select({ accountId: deadLetters.accountId, n: count() })
      .from(deadLetters)
      .where(inArray(deadLetters.accountId, ids))
      .groupBy(deadLetters.accountId),
  );
}

/** When the longest-waiting due account became due (epoch ms), or null when none is due. */
export async function oldestDueAtMs(db: Db, nowMs: number): Promise<number | null> {
  const rows = await db
    .select({ oldest: min(accounts.nextReconcileAtMs) })
    .from(accounts)
    .where(lte(accounts.nextReconcileAtMs, nowMs));
  return rows[0]?.oldest ?? null;
}
