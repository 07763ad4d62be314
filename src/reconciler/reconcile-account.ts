/**
 * One reconcile run for one account: take the lease -> observe -> plan -> apply (unless the
 * account is in observe mode) -> record the run and each object's status -> release. The run
 * record is written in a `finally`, success or not.
 */
import { applyAction } from "../cloudflare/apply";
import type { ApplyContext } from "../cloudflare/apply-context";
import {
  BudgetExhaustedError,
  type CloudflareEndpoint,
  createCloudflareClient,
  SubrequestBudget,
} from "../cloudflare/client";
import { withEnrollment } from "../cloudflare/enrollment.adapter";
import { toUpstreamError } from "../cloudflare/errors";
import { observeAccount } from "../cloudflare/observe";
import type { Config } from "../config";
import { getAccount, getSealedApiToken, scheduleAccount } from "../db/accounts.repo";
import type { Db } from "../db/client";
import { loadDesiredWithGrants } from "../db/grants.repo";
import { type RunAction, type RunRecord, saveRun } from "../db/runs.repo";
import { recordCreateRequested, recordSyncUpdates } from "../db/sync-status.repo";
import type { DesiredState, Kind, ObservedState } from "../domain/model";
import type { Action, Plan } from "../domain/plan/actions";
import { planAccount } from "../domain/plan/plan";
import { openSecret } from "../lib/crypto";
import type { LockClient } from "../lock/lock-client";
import { armGrantTimer } from "./grant-alarm";
import { deliverDueCallbacks } from "./grant-callbacks";
import { recordGrantRunOutcomes } from "./grant-outcomes";
import { applyDueClockEvents } from "./grant-transitions";
import { syncUpdatesFor, toRunAction } from "./outcomes";
import { defaultRetryPolicy, type RetryPolicy, withRetry } from "./retry";

/** Everything a run needs from the outside world. */
export interface ReconcileDeps {
  db: Db;
  config: Config;
  endpoint: CloudflareEndpoint;
  lock: LockClient;
  /** TOKEN_ENCRYPTION_KEY, base64. */
  tokenKey: string;
  /** The clock, epoch ms. */
  nowMs: () => number;
  /** Waits, for Retry-After and backoff. */
  sleep: (ms: number) => Promise<void>;
  /** Sends one grant callback request (global fetch in production). */
  callbackFetch: (request: Request) => Promise<Response>;
}

/** What became of a reconcile request. */
export type ReconcileOutcome =
  | { status: "done"; run: RunRecord }
  | { status: "held"; retryAfterMs: number }
  | { status: "not-found" };

/** The result of a dry run. */
export type DryRunOutcome =
  | { status: "planned"; plan: Plan; desired: DesiredState; observed: ObservedState }
  | { status: "not-found" }
  | { status: "upstream-failed"; message: string };

/** The SDK client for an account (its token opened from D1), or undefined for no account. */
export async function clientFor(deps: ReconcileDeps, accountId: string, budget: SubrequestBudget) {
  const sealed = await getSealedApiToken(deps.db, accountId);
  if (sealed === undefined) {
    return undefined;
  }
  return createCloudflareClient(await openSecret(sealed, deps.tokenKey), deps.endpoint, budget);
}

/** Observes and plans without the lease and without writing anything. */
export async function planAccountNow(
  deps: ReconcileDeps,
  accountId: string,
): Promise<DryRunOutcome> {
  const budget = new SubrequestBudget(deps.config.maxSubrequestsPerRun);
  const client = await clientFor(deps, accountId, budget);
  if (client === undefined) {
    return { status: "not-found" };
  }
  const retry = defaultRetryPolicy(deps.sleep);
  const desired = await loadDesiredWithGrants(deps.db, accountId, deps.nowMs());
  try {
    const observed = await withRetry(retry, async () =>
      withEnrollment(client, accountId, desired, await observeAccount(client, accountId)),
    );
    return { status: "planned", plan: planAccount(desired, observed), desired, observed };
  } catch (error) {
    // Cloudflare kept failing (or the budget ran out): the caller answers 502, not 500.
    return { status: "upstream-failed", message: toUpstreamError(error).message };
  }
}

/**
 * Reconciles one account under its lease.
 * @returns `held` (with the ms until the lease ends) when another run holds it.
 */
export async function reconcileAccount(
  deps: ReconcileDeps,
  accountId: string,
  trigger: RunRecord["trigger"],
): Promise<ReconcileOutcome> {
  const account = await getAccount(deps.db, accountId);
  if (account === undefined) {
    return { status: "not-found" };
  }
  const runId = crypto.randomUUID();
  const lease = await deps.lock.acquire(accountId, runId, deps.config.leaseTtlMs);
  if (lease.status === "held") {
    return { status: "held", retryAfterMs: lease.retryAfterMs };
  }
  const budget = new SubrequestBudget(deps.config.maxSubrequestsPerRun);
  const run: RunRecord = {
    id: runId,
    accountId,
    trigger,
    mode: account.mode,
    outcome: "running",
    fencingToken: lease.token,
    startedAtMs: deps.nowMs(),
    finishedAtMs: null,
    counts: {
      observed: 0,
      planned: 0,
      applied: 0,
      failed: 0,
      deferred: 0,
      unmanaged: 0,
      subrequests: 0,
    },
    actions: [],
    drift: [],
    errors: [],
    continued: false,
  };
  await saveRun(deps.db, run);
  try {
    await runPipeline(deps, run, budget, lease.token);
  } catch (error) {
    const failure = toUpstreamError(error);
    run.outcome = "failed";
    run.continued = failure instanceof BudgetExhaustedError;
    run.errors.push({
      kind: null,
      key: null,
      message: failure.message,
      retryable: failure instanceof BudgetExhaustedError || failure.retryable,
    });
  } finally {
    run.finishedAtMs = deps.nowMs();
    run.counts.subrequests = budget.used;
    await saveRun(deps.db, run);
    await scheduleAccount(
      deps.db,
      accountId,
      run.finishedAtMs + (run.continued ? 0 : account.reconcileIntervalS * 1000),
    );
    await deps.lock.release(accountId, lease.token);
  }
  return { status: "done", run };
}

async function runPipeline(
  deps: ReconcileDeps,
  run: RunRecord,
  budget: SubrequestBudget,
  token: number,
) {
  const accountId = run.accountId;
  const client = await clientFor(deps, accountId, budget);
  if (client === undefined) {
    throw new Error("account disappeared during the run");
  }
  const retry = defaultRetryPolicy(deps.sleep);
  const observed = await withRetry(retry, () => observeAccount(client, accountId));
  await applyDueClockEvents(deps.db, accountId, deps.nowMs());
  const desired = await loadDesiredWithGrants(deps.db, accountId, deps.nowMs());
  const withAccess = await withRetry(retry, () =>
    withEnrollment(client, accountId, desired, observed),
  );
  const plan = planAccount(desired, withAccess);
  run.counts.observed =
    observed.virtualNetworks.length +
    observed.tunnels.length +
    observed.tunnelRoutes.length +
    observed.deviceProfiles.length +
    observed.networkPolicies.length;
  run.counts.planned = plan.actions.length;
  run.counts.unmanaged = plan.unmanaged.length;
  run.drift = plan.actions
    .filter((a) => a.isDrift)
    .map((a) => ({ kind: a.kind, key: a.key, reason: a.reason }));

  const results = new Map<Action, RunAction>();
  if (run.mode === "enforce") {
    const stopped = await applyPlan(
      deps,
      { client, accountId, budget, token, retry },
      plan,
      observed.virtualNetworks.find((v) => v.isDefault)?.cloudflareId,
      results,
    );
    if (stopped === "lease-lost") {
      run.errors.push({
        kind: null,
        key: null,
        message: `the lease (fencing token ${token}) was lost; remaining actions left to the next run`,
        retryable: true,
      });
    }
  }
  run.actions = plan.actions.map(
    (a) =>
      results.get(a) ?? toRunAction(a, run.mode === "enforce" ? "deferred" : "planned", null, null),
  );
  run.counts.applied = run.actions.filter((a) => a.outcome === "applied").length;
  run.counts.failed = run.actions.filter((a) => a.outcome === "failed").length;
  run.counts.deferred = run.actions.filter((a) => a.outcome === "deferred").length;
  run.continued = run.counts.deferred > 0;
  run.outcome = run.counts.failed > 0 || run.continued ? "partial" : "succeeded";
  for (const failed of run.actions.filter((a) => a.outcome === "failed")) {
    run.errors.push({
      kind: failed.kind,
      key: failed.key,
      message: failed.error ?? "failed",
      retryable: false,
    });
  }
  const tunnelHealth = new Map(observed.tunnels.map((t) => [t.cloudflareId, t.status]));
  await recordSyncUpdates(
    deps.db,
    accountId,
    syncUpdatesFor(desired, plan, run, tunnelHealth),
    deps.nowMs(),
  );
  await recordGrantRunOutcomes(deps.db, accountId, desired, plan, run, deps.nowMs());
  // Callbacks of the transitions this run made go out now; the alarm is left for later timers.
  await deliverDueCallbacks(deps, accountId);
  await armGrantTimer(deps, accountId);
}

interface ApplyState {
  client: ApplyContext["client"];
  accountId: string;
  budget: SubrequestBudget;
  token: number;
  retry: RetryPolicy;
}

/**
 * Applies actions in plan order. Before each kind's batch the fencing token is checked, so a run
 * that lost its lease stops writing. A failed create leaves its dependants failing too (their
 * reference cannot be resolved); they are retried by the next run.
 */
async function applyPlan(
  deps: ReconcileDeps,
  state: ApplyState,
  plan: Plan,
  defaultVirtualNetworkId: string | undefined,
  results: Map<Action, RunAction>,
): Promise<"completed" | "lease-lost" | "budget-spent"> {
  const ids = new Map<string, string>(
    plan.bindings.map((b) => [`${b.kind}/${b.key}`, b.cloudflareId]),
  );
  const ctx: ApplyContext = {
    client: state.client,
    accountId: state.accountId,
    defaultVirtualNetworkId,
    resolve(kind: Kind, key: string) {
      const id = ids.get(`${kind}/${key}`);
      if (id === undefined) {
        throw new Error(`${kind} ${key} does not exist in Cloudflare yet`);
      }
      return id;
    },
  };
  let batch: string | undefined;
  for (const action of plan.actions) {
    const batchKey = `${action.op === "delete" ? "delete" : "write"}/${action.kind}`;
    if (batchKey !== batch) {
      batch = batchKey;
      const lease = await deps.lock.check(state.accountId, state.token);
      if (lease.status === "lost") {
        return "lease-lost";
      }
    }
    if (action.op === "create" && action.kind === "tunnel") {
      // Recorded before the call: if the response is lost, the next run adopts the tunnel by name.
      await recordCreateRequested(deps.db, state.accountId, action.kind, action.key, deps.nowMs());
    }
    try {
      const policy =
        action.op === "create" ? { ...state.retry, retryServerErrors: false } : state.retry;
      const cloudflareId = await withRetry(policy, () => applyAction(ctx, action));
      ids.set(`${action.kind}/${action.key}`, cloudflareId);
      results.set(action, toRunAction(action, "applied", cloudflareId, null));
    } catch (error) {
      const failure = toUpstreamError(error);
      if (failure instanceof BudgetExhaustedError) {
        return "budget-spent";
      }
      results.set(action, toRunAction(action, "failed", null, failure.message));
    }
  }
  return "completed";
}
