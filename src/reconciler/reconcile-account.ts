/**
 * One reconcile run for one account, a pipeline of values read top to bottom: take the lease ->
 * load desired -> observe -> plan (pure) -> apply (what the mode allows) -> summarise (pure) ->
 * record (one D1 batch) -> release. Each step returns what the next needs; nothing is mutated
 * along the way. This is the only code that writes to Cloudflare.
 */
import type Cloudflare from "cloudflare";
import {
  BudgetExhaustedError,
  type CallGate,
  CallsHeldError,
  createCloudflareClient,
  SubrequestBudget,
} from "../cloudflare/client";
import { toUpstreamError } from "../cloudflare/errors";
import { observeReadable } from "../cloudflare/registry";
import {
  type AccountRecord,
  getAccount,
  getSealedApiToken,
  type ObservationFacts,
  recordObservationStatement,
  scheduleAccountStatement,
} from "../db/accounts.repo";
import { listGrantsWithPolicies, loadDesiredWithGrants } from "../db/grants.repo";
import { type RunRecord, saveRunStatement, trimRunsStatement } from "../db/runs.repo";
import { changedSyncUpdates, type SyncUpdate, syncUpdateStatements } from "../db/sync-status.repo";
import { nextSweepAtMs } from "../domain/due";
import { runEvents } from "../domain/events/run-events";
import type { DesiredState, ObservedState } from "../domain/model";
import type { Plan } from "../domain/plan/actions";
import { actionsToSend } from "../domain/plan/mode";
import { observedFallbackDomains } from "../domain/plan/observed-account";
import { planAccount } from "../domain/plan/plan";
import type { Lane } from "../domain/rate-budget";
import { openSecret } from "../lib/key-ring";
import { applyPlan } from "./apply-plan";
import { nextDueAfterContinued, sendContinuation } from "./continue";
import type { ReconcileDeps } from "./deps";
import { emitEvents } from "./events/emit";
import { armGrantTimer } from "./grant-alarm";
import { recordGrantRunOutcomes } from "./grant-outcomes";
import { applyDueClockEvents } from "./grant-transitions";
import { observeSkipping, type SkippedKinds } from "./observe-now";
import { syncUpdatesFor } from "./outcomes";
import { createRunGate } from "./rate-gate";
import { defaultRetryPolicy, withRetry } from "./retry";
import { type RunHeader, type StepsOutcome, summariseRun } from "./summarise";
import { tokenProblemsOf, withTokenProblems } from "./token-problems";

/** What became of a reconcile request. */
export type ReconcileOutcome =
  | { status: "done"; run: RunRecord }
  | { status: "held"; retryAfterMs: number }
  | { status: "not-found" };

/** The result of a dry run; the actions of skipped kinds are left out of `plan`. */
export type DryRunOutcome =
  | {
      status: "planned";
      plan: Plan;
      desired: DesiredState;
      observed: ObservedState;
      skipped: SkippedKinds[];
    }
  | { status: "not-found" }
  | { status: "upstream-failed"; message: string };

/** The SDK client for an account (its token opened from D1), or undefined for no account. */
export async function clientFor(
  deps: ReconcileDeps,
  accountId: string,
  budget: SubrequestBudget,
  gate?: CallGate,
): Promise<Cloudflare | undefined> {
  const sealed = await getSealedApiToken(deps.db, accountId);
  if (sealed === undefined) {
    return undefined;
  }
  return createCloudflareClient(
    await openSecret(await deps.keyRing(), sealed, { accountId, purpose: "api-token" }),
    deps.endpoint,
    budget,
    gate,
  );
}

/** The budget lane of a trigger: grant timers (expiry) first, then asked-for runs, then sweeps. */
export function laneOf(trigger: RunRecord["trigger"]): Lane {
  switch (trigger) {
    case "alarm":
      return "revocation";
    case "api":
      return "requested";
    case "cron":
    case "queue":
      return "sweep";
  }
}

/**
 * Observes and plans without the lease and without writing anything to Cloudflare; `wouldBe`
 * turns the stored desired state into the one to plan (a document not yet applied, for the
 * desired-state diff). Kinds the token may not read are skipped (no action planned for them)
 * and recorded on the account as a run records them.
 */
export async function planAccountNow(
  deps: ReconcileDeps,
  accountId: string,
  wouldBe: (desired: DesiredState) => DesiredState = (desired) => desired,
): Promise<DryRunOutcome> {
  const account = await getAccount(deps.db, accountId);
  if (account === undefined) {
    return { status: "not-found" };
  }
  const budget = new SubrequestBudget(deps.config.maxSubrequestsPerRun);
  const gate = createRunGate(deps, account, "requested");
  const client = await clientFor(deps, accountId, budget, gate);
  if (client === undefined) {
    await gate.close();
    return { status: "not-found" };
  }
  const desired = wouldBe(await loadDesiredWithGrants(deps.db, accountId, deps.nowMs()));
  try {
    const { observed, skipped } = await observeSkipping(deps, account, client, desired, "plan");
    const unread = new Set(skipped.flatMap((s) => s.kinds));
    const plan = planAccount(desired, observed);
    return {
      status: "planned",
      plan: { ...plan, actions: plan.actions.filter((a) => !unread.has(a.kind)) },
      desired,
      observed,
      skipped,
    };
  } catch (error) {
    // Cloudflare kept failing (or the budget ran out): the caller answers 502, not 500.
    return { status: "upstream-failed", message: toUpstreamError(error).message };
  } finally {
    await gate.close();
  }
}

/**
 * Reconciles one account under its lease, its Cloudflare calls in `lane` of the account's budget
 * (by default the trigger's: see laneOf).
 * @returns `held` (with the ms until the lease ends) when another run holds it, `not-found` for
 *   an unknown account, else the recorded run.
 */
export async function reconcileAccount(
  deps: ReconcileDeps,
  accountId: string,
  trigger: RunRecord["trigger"],
  lane: Lane = laneOf(trigger),
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
  try {
    const header: RunHeader = {
      id: runId,
      accountId,
      trigger,
      mode: account.mode,
      fencingToken: lease.token,
      startedAtMs: deps.nowMs(),
    };
    const budget = new SubrequestBudget(deps.config.maxSubrequestsPerRun, deps.invocationBudget);
    await applyDueClockEvents(deps, accountId, deps.nowMs());
    const desired = await loadDesiredWithGrants(deps.db, accountId, deps.nowMs());
    const gate = createRunGate(deps, account, lane);
    const steps = await observePlanApply(deps, account, lease.token, desired, budget, gate).finally(
      () => gate.close(),
    );
    const summarised = summariseRun(header, steps, deps.nowMs(), budget.used);
    const learnt = observationLearnt(
      account,
      header,
      steps,
      summarised.finishedAtMs ?? deps.nowMs(),
    );
    const run = withTokenProblems(summarised, learnt?.tokenProblems ?? []);
    const syncUpdates =
      steps.status === "planned"
        ? await changedSyncUpdates(
            deps.db,
            accountId,
            syncUpdatesFor(desired, steps.plan, run, tunnelHealthOf(steps.observed)),
          )
        : [];
    await recordRun(deps, account, run, syncUpdates, learnt);
    if (steps.status === "planned") {
      // The activation checks see the shared rules this run read, not the ones stored before it.
      const seen = learnt?.sharedRules;
      const checked =
        seen === undefined
          ? desired
          : { ...desired, sharedRules: seen.rules, sharedRulesObservedAtMs: seen.observedAtMs };
      await recordGrantRunOutcomes(deps.db, accountId, checked, steps.plan, run, deps.nowMs());
    }
    // Callbacks of the transitions this run made are sent by the alarm this arms, never inline.
    await armGrantTimer(deps, accountId);
    await emitEvents(deps, accountId, runEvents(run, deps.nowMs()), deps.nowMs());
    return { status: "done", run };
  } finally {
    await deps.lock.release(accountId, lease.token);
  }
}

/**
 * Observe -> plan -> apply. Every failure of Cloudflare (or of the budget) comes back as a value,
 * so the run is always summarised and recorded.
 */
async function observePlanApply(
  deps: ReconcileDeps,
  account: AccountRecord,
  token: number,
  desired: DesiredState,
  budget: SubrequestBudget,
  gate: CallGate,
): Promise<StepsOutcome> {
  const retry = defaultRetryPolicy(deps.sleep);
  try {
    const client = await clientFor(deps, account.id, budget, gate);
    if (client === undefined) {
      throw new Error("account disappeared during the run");
    }
    const { observed, refused } = await withRetry(retry, () =>
      observeReadable(client, account.id, desired),
    );
    const plan = planAccount(desired, observed);
    const sent = actionsToSend(account.mode, plan.actions, await endedGrantIds(deps, account));
    const applied = await applyPlan(
      deps,
      {
        client,
        accountId: account.id,
        token,
        retry,
        bindings: plan.bindings,
        defaultVirtualNetworkId: observed.virtualNetworks.find((v) => v.isDefault)?.cloudflareId,
        refused,
      },
      sent,
    );
    return { status: "planned", observed, plan, sent, applied };
  } catch (error) {
    const failure = toUpstreamError(error);
    if (failure instanceof CallsHeldError || failure instanceof BudgetExhaustedError) {
      return {
        status: "failed",
        message: failure.message,
        retryable: true,
        continued: true,
        continueAtMs: failure instanceof CallsHeldError ? failure.retryAtMs : null,
      };
    }
    return {
      status: "failed",
      message: failure.message,
      retryable: failure.retryable,
      continued: false,
      continueAtMs: null,
    };
  }
}

/** Grants that ended with a policy maybe still in Cloudflare; only observe mode needs them. */
async function endedGrantIds(deps: ReconcileDeps, account: AccountRecord): Promise<Set<string>> {
  if (account.mode === "enforce") {
    return new Set();
  }
  const grants = await listGrantsWithPolicies(deps.db, account.id);
  return new Set(grants.filter((g) => g.state !== "active").map((g) => g.id));
}

function tunnelHealthOf(observed: ObservedState): Map<string, string> {
  return new Map(observed.tunnels.map((t) => [t.cloudflareId, t.status]));
}

/** What a run that observed learnt about the account (null when it never observed). */
type ObservationLearnt = ObservationFacts;

function observationLearnt(
  account: AccountRecord,
  header: RunHeader,
  steps: StepsOutcome,
  atMs: number,
): ObservationLearnt | null {
  if (steps.status !== "planned") {
    return null;
  }
  const refused = steps.applied.refused ?? [];
  const rulesRead = !refused.some((r) => r.area === "zero-trust" && r.request.startsWith("GET "));
  return {
    tokenProblems: tokenProblemsOf(header, refused, atMs),
    sharedRules: rulesRead
      ? {
          rules: steps.observed.networkPolicies.filter((p) => p.readOnly === true),
          observedAtMs: atMs,
        }
      : undefined,
    adoptedInitialResolvedIpv4:
      steps.observed.initialResolvedIpv4 === account.initialResolvedIpv4
        ? undefined
        : steps.observed.initialResolvedIpv4,
    fallbackDomains: observedFallbackDomains(steps.observed),
  };
}

/**
 * The run record, the objects' statuses, the next due time (the interval plus the account's
 * jitter, see domain/due.ts), what the run learnt about the token and the shared rules, and the
 * trim of the account's run history, in one D1 batch; then the follow-up of a continued run, queued for its `continueAtMs`
 * (see continue.ts). Without a queue the account is due again at that instant.
 */
async function recordRun(
  deps: ReconcileDeps,
  account: AccountRecord,
  run: RunRecord,
  syncUpdates: SyncUpdate[],
  learnt: ObservationLearnt | null,
): Promise<void> {
  const finishedAtMs = run.finishedAtMs ?? deps.nowMs();
  const continueAtMs = run.continued ? run.continueAtMs : null;
  const nextAtMs =
    continueAtMs === null
      ? nextSweepAtMs(account.id, finishedAtMs, account.reconcileIntervalS)
      : nextDueAfterContinued(continueAtMs, deps.queue !== undefined);
  await deps.db.batch([
    saveRunStatement(deps.db, run),
    ...syncUpdateStatements(deps.db, account.id, syncUpdates, deps.nowMs()),
    scheduleAccountStatement(deps.db, account.id, nextAtMs),
    ...(learnt === null ? [] : [recordObservationStatement(deps.db, account.id, learnt)]),
    trimRunsStatement(
      deps.db,
      account.id,
      run.startedAtMs - deps.config.runRetentionMs,
      deps.config.runsKeptPerAccount,
    ),
  ]);
  if (continueAtMs !== null && deps.queue !== undefined) {
    await sendContinuation(deps.queue, account.id, finishedAtMs, continueAtMs);
  }
}
