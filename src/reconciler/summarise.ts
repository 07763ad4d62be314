/**
 * The summarise step of a run, pure: the run record built from the values the steps before it
 * returned (the plan, what was sent and what came back, or the failure that ended the run).
 */
import type { RunAction, RunRecord } from "../db/runs.repo";
import type { ObservedState } from "../domain/model";
import type { Action, FieldDiff, Plan } from "../domain/plan/actions";
import { OBSERVE_MODE_WRITE_REASON } from "../domain/plan/mode";
import type { ApplyResult } from "./apply-plan";
import { toRunAction } from "./outcomes";

/** What every run record carries whatever happened. */
export type RunHeader = Pick<
  RunRecord,
  "id" | "accountId" | "trigger" | "mode" | "fencingToken" | "startedAtMs"
>;

/** What the run's steps produced: a plan and its apply, or the error that stopped them. */
export type StepsOutcome =
  | {
      status: "planned";
      observed: ObservedState;
      plan: Plan;
      /** The actions chosen to be sent (all in enforce mode). */
      sent: Action[];
      applied: ApplyResult;
    }
  | {
      status: "failed";
      message: string;
      /** True when the next run may succeed (Cloudflare failing, the budget spent). */
      retryable: boolean;
      /** True when the run stopped at its subrequest budget or while the account's calls are held. */
      continued: boolean;
      /** When a hold ends (epoch ms), the earliest the run may continue; null when not held. */
      continueAtMs: number | null;
    };

function observedCount(observed: ObservedState): number {
  return (
    observed.virtualNetworks.length +
    observed.tunnels.length +
    observed.tunnelRoutes.length +
    observed.hostnameRoutes.length +
    observed.deviceProfiles.length +
    observed.networkPolicies.length
  );
}

const NO_COUNTS: RunRecord["counts"] = {
  observed: 0,
  planned: 0,
  applied: 0,
  failed: 0,
  deferred: 0,
  unmanaged: 0,
  subrequests: 0,
};

/** Actions not sent (deferred or only planned) a run record lists; the rest are only counted. */
export const UNSENT_ACTIONS_RECORDED = 100;
/** Longest list a recorded diff shows whole; longer ones are summarised. */
const DIFF_LIST_RECORDED = 10;

/**
 * Summarises a field diff between two long lists (a split tunnel's entries): counts of entries
 * added and removed, and the first DIFF_LIST_RECORDED of each.
 */
function summariseDiff(diff: FieldDiff): FieldDiff {
  const { observed, desired } = diff;
  if (
    !Array.isArray(observed) ||
    !Array.isArray(desired) ||
    Math.max(observed.length, desired.length) <= DIFF_LIST_RECORDED
  ) {
    return diff;
  }
  const key = (entry: unknown) => JSON.stringify(entry);
  const had = new Set(observed.map(key));
  const wants = new Set(desired.map(key));
  const added = desired.filter((e) => !had.has(key(e)));
  const removed = observed.filter((e) => !wants.has(key(e)));
  return {
    field: diff.field,
    observed: {
      count: observed.length,
      removed: removed.length,
      first_removed: removed.slice(0, DIFF_LIST_RECORDED),
    },
    desired: {
      count: desired.length,
      added: added.length,
      first_added: added.slice(0, DIFF_LIST_RECORDED),
    },
  };
}

/**
 * What a run record keeps of its actions: every action sent (applied or failed), the first
 * UNSENT_ACTIONS_RECORDED of the rest, long list diffs summarised; the counts say how many there
 * were, so a record stays small at any number of objects.
 */
function boundActions(actions: RunAction[]): RunAction[] {
  let unsent = 0;
  return actions.flatMap((a) => {
    const sent = a.outcome === "applied" || a.outcome === "failed";
    if (!sent && ++unsent > UNSENT_ACTIONS_RECORDED) {
      return [];
    }
    return [{ ...a, diff: a.diff.map(summariseDiff) }];
  });
}

/** The soonest a continued run's work resumes after it ended, ms: never an immediate re-run. */
export const MIN_CONTINUE_DELAY_MS = 1000;

/**
 * When the work left by a continued run resumes, epoch ms: when the hold on the account's calls
 * ends (a 429, Cloudflare reporting few calls left, or the account's share of the rate limit
 * spent: the token bucket's own answer), but never sooner than MIN_CONTINUE_DELAY_MS after the
 * run ended (a run that stopped at its subrequest budget continues then).
 */
export function continueAtOf(steps: StepsOutcome, finishedAtMs: number): number {
  const heldUntilMs =
    steps.status === "failed" ? steps.continueAtMs : (steps.applied.hold?.retryAtMs ?? null);
  return Math.max(finishedAtMs + MIN_CONTINUE_DELAY_MS, heldUntilMs ?? 0);
}

/**
 * Builds the finished run record.
 * @param finishedAtMs epoch ms the run ended; @param subrequests requests the run sent.
 */
export function summariseRun(
  header: RunHeader,
  steps: StepsOutcome,
  finishedAtMs: number,
  subrequests: number,
): RunRecord {
  const base = { ...header, finishedAtMs };
  if (steps.status === "failed") {
    return {
      ...base,
      outcome: "failed",
      counts: { ...NO_COUNTS, subrequests },
      actions: [],
      drift: [],
      errors: [{ kind: null, key: null, message: steps.message, retryable: steps.retryable }],
      continued: steps.continued,
      continueAtMs: steps.continued ? continueAtOf(steps, finishedAtMs) : null,
    };
  }
  const { plan, applied } = steps;
  const sent = new Set(steps.sent);
  const enforcing = header.mode === "enforce";
  const actions = plan.actions.map((action) => {
    const result = applied.results.get(action);
    if (result === undefined) {
      return toRunAction(action, sent.has(action) ? "deferred" : "planned", null, null);
    }
    const recorded = enforcing
      ? action
      : { ...action, reason: `${action.reason}; ${OBSERVE_MODE_WRITE_REASON}` };
    return toRunAction(recorded, result.outcome, result.cloudflareId, result.error);
  });
  const count = (outcome: string) => actions.filter((a) => a.outcome === outcome).length;
  const deferred = count("deferred");
  const failed = actions.filter((a) => a.outcome === "failed");
  const recorded = boundActions(actions);
  const stopped =
    applied.stop === "lease-lost"
      ? [
          {
            kind: null,
            key: null,
            message: `the lease (fencing token ${header.fencingToken}) was lost; remaining actions left to the next run`,
            retryable: true,
          },
        ]
      : applied.hold !== null
        ? [{ kind: null, key: null, message: applied.hold.reason, retryable: true }]
        : applied.spent !== undefined
          ? [{ kind: null, key: null, message: applied.spent, retryable: true }]
          : [];
  return {
    ...base,
    outcome: failed.length > 0 || deferred > 0 ? "partial" : "succeeded",
    counts: {
      observed: observedCount(steps.observed),
      planned: plan.actions.length,
      applied: count("applied"),
      failed: failed.length,
      deferred,
      unmanaged: plan.unmanaged.length,
      subrequests,
    },
    actions: recorded,
    drift: [
      ...plan.actions
        .filter((a) => a.isDrift)
        .map((a) => ({ kind: a.kind, key: a.key, reason: a.reason })),
      // The account's range changed in Cloudflare: adopted, so reported as drift once.
      ...plan.warnings
        .filter((w) => w.code === "initial-resolved-range-adopted")
        .map((w) => ({ kind: w.kind, key: w.key, reason: w.message })),
    ],
    errors: [
      ...stopped,
      ...failed.map((a) => ({
        kind: a.kind,
        key: a.key,
        message: a.error ?? "failed",
        retryable: false,
      })),
    ],
    continued: deferred > 0,
    continueAtMs: deferred > 0 ? continueAtOf(steps, finishedAtMs) : null,
  };
}
