/**
 * `GET /v1/accounts`: a page of the accounts the caller may see, each with what an operator asks
 * first (is it failing, drifting, stuck, is its token refused), read in one query per concern
 * for the whole page and one lease lookup per account.
 */
import type { z } from "@hono/zod-openapi";
import {
  deadLetterCounts,
  driftedObjectCounts,
  type LatestRun,
  latestRuns,
} from "../../db/account-overview.repo";
import { type AccountRecord, listAccountsAfter } from "../../db/accounts.repo";
import { createDb } from "../../db/client";
import { toPage } from "../../db/pagination";
import { accountState, refusedTokenErrors } from "../../domain/accounts/health";
import type { LeaseState } from "../../domain/lease";
import { describeTokenProblem } from "../../domain/token-permissions";
import { readLease } from "../../lock/lock-client";
import type { AppHandler } from "../context";
import type { AccountScope } from "../identity/identity";
import { cursorPosition } from "../paging";
import type * as endpoints from "./accounts.endpoints";
import type { AccountSummary } from "./overview.schemas";

const iso = (ms: number) => new Date(ms).toISOString();

/** The wire summary of one account from its parts, read at `nowMs`. */
export function toAccountSummary(
  account: AccountRecord,
  latest: LatestRun | undefined,
  driftedObjects: number,
  deadLetters: number,
  lease: LeaseState,
  nowMs: number,
): z.infer<typeof AccountSummary> {
  const tokenProblems = [
    ...new Set([
      ...account.tokenProblems.map(describeTokenProblem),
      ...(latest === undefined ? [] : refusedTokenErrors(latest.errors)),
    ]),
  ];
  return {
    account_id: account.id,
    name: account.name,
    mode: account.mode,
    state: accountState({
      latest,
      tokenProblems: tokenProblems.length,
      driftedObjects,
      nextRunAtMs: account.nextReconcileAtMs,
      nowMs,
      overdueAfterMs: 2 * account.reconcileIntervalS * 1000,
    }),
    last_run:
      latest === undefined
        ? null
        : {
            id: latest.id,
            outcome: latest.outcome,
            started_at: iso(latest.startedAtMs),
            finished_at: latest.finishedAtMs === null ? null : iso(latest.finishedAtMs),
            duration_ms:
              latest.finishedAtMs === null ? null : latest.finishedAtMs - latest.startedAtMs,
            drift_count: latest.driftCount,
            error_count: latest.errors.length,
          },
    drifted_objects: driftedObjects,
    dead_letters: deadLetters,
    next_run_at: iso(account.nextReconcileAtMs),
    lease:
      lease.holder !== null && lease.expiresAtMs > nowMs
        ? { holder: lease.holder, expires_at: iso(lease.expiresAtMs) }
        : null,
    token_problems: tokenProblems,
  };
}

/**
 * A page of the accounts `scope` reaches, in id order after `afterId` (exclusive), each with its
 * summary read at `nowMs`; `nextCursor` is null on the last page.
 */
export async function readAccountOverview(
  env: Env,
  scope: AccountScope,
  afterId: string | undefined,
  limit: number,
  nowMs: number,
): Promise<{ items: z.infer<typeof AccountSummary>[]; nextCursor: string | null }> {
  // A scoped caller's page is cut from its own ids, so the IN list stays under D1's bound.
  const onlyIds =
    scope === "*"
      ? undefined
      : [...scope]
          .filter((id) => afterId === undefined || id > afterId)
          .sort()
          .slice(0, limit + 1);
  const db = createDb(env.DB);
  const rows = await listAccountsAfter(db, onlyIds, afterId, limit + 1);
  const page = toPage(rows, limit, (a) => ({ atMs: 0, id: a.id }));
  const ids = page.items.map((a) => a.id);
  const [runs, drifted, letters, leases] = await Promise.all([
    latestRuns(db, ids),
    driftedObjectCounts(db, ids),
    deadLetterCounts(db, ids),
    Promise.all(ids.map((id) => readLease(env.ACCOUNT_LOCK, id))),
  ]);
  const items = page.items.map((account, i) =>
    toAccountSummary(
      account,
      runs.get(account.id),
      drifted.get(account.id) ?? 0,
      letters.get(account.id) ?? 0,
      leases[i] ?? { token: 0, holder: null, expiresAtMs: 0 },
      nowMs,
    ),
  );
  return { items, nextCursor: page.nextCursor };
}

export const list: AppHandler<typeof endpoints.list> = async (c) => {
  const { cursor, limit } = c.req.valid("query");
  const overview = await readAccountOverview(
    c.env,
    c.get("identity").accounts,
    cursorPosition(cursor)?.id,
    limit,
    Date.now(),
  );
  return c.json({ items: overview.items, next_cursor: overview.nextCursor }, 200);
};
