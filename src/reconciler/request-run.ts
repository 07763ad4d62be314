/** Asking for a run from an API request that changed desired state (import, for one). */
import { scheduleAccount } from "../db/accounts.repo";
import type { ReconcileDeps } from "./deps";
import { type ReconcileOutcome, reconcileAccount } from "./reconcile-account";

/**
 * Runs a reconcile now. When another run holds the lease, the account is made due at once, so
 * the next tick hands it out (the run under way may have loaded the desired state before the
 * change).
 * @returns the reconcile outcome.
 */
export async function requestRun(
  deps: ReconcileDeps,
  accountId: string,
): Promise<ReconcileOutcome> {
  const outcome = await reconcileAccount(deps, accountId, "api");
  if (outcome.status === "held") {
    await scheduleAccount(deps.db, accountId, deps.nowMs());
  }
  return outcome;
}
