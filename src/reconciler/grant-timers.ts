/**
 * The work of an account's grant alarm (AccountLock.alarm): make the clock's due transitions,
 * reconcile when a grant started or ended (so its policy appears or goes within seconds), send
 * due callbacks (only when the alarm runs it), and say when to fire next. Idempotent: an early or repeated fire does nothing
 * that has not come due.
 */
import { listGrantsWithPolicies } from "../db/grants.repo";
import type { ReconcileDeps } from "./deps";
import { nextGrantTimerAtMs } from "./grant-alarm";
import { deliverDueCallbacks } from "./grant-callbacks";
import { applyDueClockEvents } from "./grant-transitions";
import { laneOf, type ReconcileOutcome, reconcileAccount } from "./reconcile-account";

/** What one alarm did, and when the next is due (epoch ms, or null). */
export interface GrantTimerOutcome {
  transitions: { grantId: string; state: string }[];
  reconciled: "done" | "held" | "skipped";
  deliveries: number;
  nextAtMs: number | null;
}

/** Lease held by another run: try again this much later, ms. */
const HELD_RETRY_MS = 5_000;
/** How long a revocation waits for a sweep holding the lease to yield it, ms. */
export const PREEMPT_WAIT_MS = 10_000;
/** How often the waiting revocation asks for the lease again, ms. */
const PREEMPT_POLL_MS = 100;

/**
 * A revocation's run: when a run holds the lease, sweeps are told to yield (a sweep stops at its
 * next reservation of calls, at most a few calls later, ends continued and frees the lease) and
 * the lease is asked for again until PREEMPT_WAIT_MS have passed. A requested run is not
 * pre-empted: the revocation then comes back later like any held run.
 */
async function reconcileRevocation(
  deps: ReconcileDeps,
  accountId: string,
  trigger: "alarm" | "api",
): Promise<ReconcileOutcome> {
  let outcome = await reconcileAccount(deps, accountId, trigger, "revocation");
  if (outcome.status !== "held") {
    return outcome;
  }
  const untilMs = deps.nowMs() + PREEMPT_WAIT_MS;
  await deps.lock.preemptSweeps(accountId, untilMs);
  try {
    while (outcome.status === "held" && deps.nowMs() < untilMs) {
      await deps.sleep(PREEMPT_POLL_MS);
      outcome = await reconcileAccount(deps, accountId, trigger, "revocation");
    }
  } finally {
    await deps.lock.preemptSweeps(accountId, 0);
  }
  return outcome;
}

/**
 * The alarm's work for one account (see the module comment). Reconciles when a grant's policy
 * is behind its state (an active grant not yet synced, an ended one whose policy still exists),
 * under the account's lease like any run. Removing an ended grant's access pre-empts a sweep
 * (see reconcileRevocation); when the lease stays held, the alarm comes back after
 * HELD_RETRY_MS (the holder's own run already expires due grants before planning).
 */
export async function runGrantTimers(
  deps: ReconcileDeps,
  accountId: string,
  trigger: "alarm" | "api" = "alarm",
): Promise<GrantTimerOutcome> {
  const changed = await applyDueClockEvents(deps, accountId, deps.nowMs());
  let reconciled: GrantTimerOutcome["reconciled"] = "skipped";
  let heldRetryAtMs: number | null = null;
  const withPolicies = await listGrantsWithPolicies(deps.db, accountId);
  const activeBehind = withPolicies.some(
    (g) => g.state === "active" && g.policySyncState !== "synced",
  );
  const endedBehind = withPolicies.some(
    (g) => g.state !== "active" && g.policyCloudflareId !== null,
  );
  if (activeBehind || endedBehind) {
    // Removing an ended grant's access goes first in the account's budget, asked or not.
    const outcome = endedBehind
      ? await reconcileRevocation(deps, accountId, trigger)
      : await reconcileAccount(deps, accountId, trigger, laneOf(trigger));
    reconciled = outcome.status === "held" ? "held" : "done";
    if (outcome.status === "held") {
      heldRetryAtMs = deps.nowMs() + Math.max(outcome.retryAfterMs, HELD_RETRY_MS);
    }
  }
  // An API request only records its deliveries: the alarm it arms sends them, so a slow
  // receiver never holds up the request.
  const deliveries = trigger === "alarm" ? await deliverDueCallbacks(deps, accountId) : 0;
  const next = await nextGrantTimerAtMs(deps.db, accountId, deps.nowMs());
  const nextAtMs =
    heldRetryAtMs === null ? next : next === null ? heldRetryAtMs : Math.min(next, heldRetryAtMs);
  return {
    transitions: changed.map((g) => ({ grantId: g.id, state: g.state })),
    reconciled,
    deliveries,
    nextAtMs,
  };
}
