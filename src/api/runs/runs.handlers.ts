/** Plan, reconcile and run history handlers. */
import { createDb } from "../../db/client";
import { toPage } from "../../db/pagination";
import { getRun, listRuns } from "../../db/runs.repo";
import { effectiveQuotas, requestWork } from "../../domain/quotas";
import { createReconcileDeps } from "../../reconciler/deps";
import { planAccountNow, reconcileAccount } from "../../reconciler/reconcile-account";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { cursorPosition } from "../paging";
import { ProblemError } from "../problem";
import { accountSelectorUnits, enforceWorkBudget, withinWorkBudget } from "../quotas";
import { planAccessDelta } from "./access-delta";
import type * as endpoints from "./runs.endpoints";
import { toPlanResource, toRunResource } from "./runs.schemas";

export const plan: AppHandler<typeof endpoints.plan> = async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  const account = await requireAccount(db, account_id);
  const units = await accountSelectorUnits(db, account_id);
  enforceWorkBudget(account, requestWork("plan", units, 0));
  const outcome = await planAccountNow(createReconcileDeps(c.env), account_id);
  const workUnits = effectiveQuotas(account.limits).work_units;
  switch (outcome.status) {
    case "not-found":
      throw new ProblemError("not-found", `Account ${account_id} is not registered.`);
    case "upstream-failed":
      throw new ProblemError("upstream-failed", outcome.message);
    case "planned":
      return c.json(
        toPlanResource(
          outcome.plan,
          withinWorkBudget(
            account_id,
            planAccessDelta(
              outcome.desired,
              outcome.observed,
              workUnits,
              outcome.skipped.some((s) => s.kinds.includes("network_policy")),
            ),
          ),
          outcome.skipped,
        ),
        200,
      );
  }
};

export const reconcile: AppHandler<typeof endpoints.reconcile> = async (c) => {
  const { account_id } = c.req.valid("param");
  const outcome = await reconcileAccount(createReconcileDeps(c.env), account_id, "api");
  switch (outcome.status) {
    case "not-found":
      throw new ProblemError("not-found", `Account ${account_id} is not registered.`);
    case "held": {
      const seconds = Math.ceil(outcome.retryAfterMs / 1000);
      throw new ProblemError("lease-held", `Another run holds the lease; retry in ${seconds} s.`, {
        headers: { "Retry-After": `${seconds}` },
      });
    }
    case "done":
      return c.json(toRunResource(outcome.run), 200);
  }
};

export const list: AppHandler<typeof endpoints.list> = async (c) => {
  const { account_id } = c.req.valid("param");
  const { cursor, limit } = c.req.valid("query");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const before = cursorPosition(cursor);
  const page = toPage(await listRuns(db, account_id, before, limit), limit, (r) => ({
    atMs: r.startedAtMs,
    id: r.id,
  }));
  return c.json({ items: page.items.map(toRunResource), next_cursor: page.nextCursor }, 200);
};

export const get: AppHandler<typeof endpoints.get> = async (c) => {
  const { account_id, run_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const run = await getRun(db, account_id, run_id);
  if (run === undefined) {
    throw new ProblemError("not-found", `No run ${run_id} in account ${account_id}.`);
  }
  return c.json(toRunResource(run), 200);
};
