/** Run records: one per reconcile, written once when the run ends, in the run's record batch. */
import { and, desc, eq, inArray, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { runs } from "./schema";

/** Counts of one run. */
export interface RunCounts {
  /** Objects observed in Cloudflare. */
  observed: number;
  /** Actions planned. */
  planned: number;
  /** Actions applied successfully. */
  applied: number;
  /** Actions that failed. */
  failed: number;
  /** Actions left for a later run (budget). */
  deferred: number;
  /** Cloudflare objects found that tunnelplane does not own. */
  unmanaged: number;
  /** HTTP requests sent to Cloudflare. */
  subrequests: number;
}

/** One action of a run with its outcome. */
export interface RunAction {
  op: string;
  kind: string;
  key: string;
  reason: string;
  diff: { field: string; observed: unknown; desired: unknown }[];
  isDrift: boolean;
  outcome: "planned" | "applied" | "failed" | "deferred" | "skipped";
  cloudflareId: string | null;
  error: string | null;
}

/** A run record. */
export interface RunRecord {
  id: string;
  accountId: string;
  trigger: "api" | "cron" | "queue" | "alarm";
  mode: "enforce" | "observe" | "plan";
  outcome: "running" | "succeeded" | "failed" | "partial";
  fencingToken: number | null;
  startedAtMs: number;
  finishedAtMs: number | null;
  counts: RunCounts;
  actions: RunAction[];
  drift: { kind: string; key: string; reason: string }[];
  /** `permission`: the token permission a 403 / 10000 showed missing (`Zero Trust: Edit`). */
  errors: {
    kind: string | null;
    key: string | null;
    message: string;
    retryable: boolean;
    permission?: string;
  }[];
  /** True when the budget ran out and work was left for the next run. */
  continued: boolean;
  /**
   * When a continued run's work resumes (epoch ms): its follow-up is queued for then, or the
   * account is due then. Null when the run left nothing.
   */
  continueAtMs: number | null;
}

type Row = typeof runs.$inferSelect;

function toRow(run: RunRecord): Row {
  return {
    id: run.id,
    accountId: run.accountId,
    trigger: run.trigger,
    mode: run.mode,
    outcome: run.outcome,
    fencingToken: run.fencingToken,
    startedAtMs: run.startedAtMs,
    finishedAtMs: run.finishedAtMs,
    countsJson: JSON.stringify(run.counts),
    actionsJson: JSON.stringify(run.actions),
    driftJson: JSON.stringify(run.drift),
    errorsJson: JSON.stringify(run.errors),
    continued: run.continued,
    continueAtMs: run.continueAtMs,
  };
}

function fromRow(row: Row): RunRecord {
  return {
    id: row.id,
    accountId: row.accountId,
    trigger: row.trigger,
    mode: row.mode,
    outcome: row.outcome,
    fencingToken: row.fencingToken,
    startedAtMs: row.startedAtMs,
    finishedAtMs: row.finishedAtMs,
    counts: JSON.parse(row.countsJson),
    actions: JSON.parse(row.actionsJson),
    drift: JSON.parse(row.driftJson),
    errors: JSON.parse(row.errorsJson),
    continued: row.continued,
    continueAtMs: row.continueAtMs,
  };
}

/** The statement that inserts or replaces a run record, for a batch with the run's other writes. */
export function saveRunStatement(db: Db, run: RunRecord) {
  const row = toRow(run);
  return db.insert(runs).values(row).onConflictDoUpdate({ target: runs.id, set: row });
}

/**
 * The statement that trims the account's run history: runs started before `startedBeforeMs` and
 * runs past the newest `keep` go. Part of every run's record batch, so history stays bounded
 * per account through the account's own index, without a scan of every account's runs.
 */
export function trimRunsStatement(
  db: Db,
  accountId: string,
  startedBeforeMs: number,
  keep: number,
) {
  const beyondNewest = db
    .select({ id: runs.id })
    .from(runs)
    .where(eq(runs.accountId, accountId))
    .orderBy(desc(runs.startedAtMs), desc(runs.id))
    // SQLite takes OFFSET only after a LIMIT; this one bounds nothing in practice.
    .limit(1_000_000_000)
    .offset(keep);
  return db
    .delete(runs)
    .where(
      and(
        eq(runs.accountId, accountId),
        or(lt(runs.startedAtMs, startedBeforeMs), inArray(runs.id, beyondNewest)),
      ),
    );
}

/** One run of the account, or undefined. */
export async function getRun(
  db: Db,
  accountId: string,
  runId: string,
): Promise<RunRecord | undefined> {
  const rows = await db
    .select()
    .from(runs)
    .where(and(eq(runs.accountId, accountId), eq(runs.id, runId)));
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** Runs newest first, `limit + 1` rows for paging. */
export async function listRuns(
  db: Db,
  accountId: string,
  before: CursorPosition | undefined,
  limit: number,
): Promise<RunRecord[]> {
  const position =
    before === undefined
      ? undefined
      : or(
          lt(runs.startedAtMs, before.atMs),
          and(eq(runs.startedAtMs, before.atMs), lt(runs.id, before.id)),
        );
  const rows = await db
    .select()
    .from(runs)
    .where(and(eq(runs.accountId, accountId), position))
    .orderBy(desc(runs.startedAtMs), desc(runs.id))
    .limit(limit + 1);
  return rows.map(fromRow);
}
