/**
 * One observation of an account outside a run, for read-only questions about what Cloudflare
 * holds now (explain on the observed state, import). No lease is taken and nothing is written
 * (only a run writes to Cloudflare);
 * it costs what a run's observation costs (about 10 requests: hostname routes and the initial
 * resolved range always read) and
 * is retried like one.
 */
import { createCloudflareClient, SubrequestBudget } from "../cloudflare/client";
import { toUpstreamError } from "../cloudflare/errors";
import { observeAccount } from "../cloudflare/registry";
import { getAccount, getSealedApiToken } from "../db/accounts.repo";
import type { ObservedState } from "../domain/model";
import { openSecret } from "../lib/key-ring";
import type { ReconcileDeps } from "./deps";
import { createRunGate } from "./rate-gate";
import { defaultRetryPolicy, withRetry } from "./retry";

/** What an observation gave. */
export type ObserveOutcome =
  | { status: "observed"; observed: ObservedState }
  | { status: "not-found" }
  | { status: "upstream-failed"; message: string };

/**
 * Observes the account now with its own API token and the run's subrequest budget.
 * @returns the observed state, `not-found` for an unknown account, `upstream-failed` when Cloudflare keeps failing.
 */
export async function observeAccountNow(
  deps: ReconcileDeps,
  accountId: string,
): Promise<ObserveOutcome> {
  const account = await getAccount(deps.db, accountId);
  const sealed = await getSealedApiToken(deps.db, accountId);
  if (account === undefined || sealed === undefined) {
    return { status: "not-found" };
  }
  const budget = new SubrequestBudget(deps.config.maxSubrequestsPerRun);
  const gate = createRunGate(deps, account, "requested");
  const client = createCloudflareClient(
    await openSecret(await deps.keyRing(), sealed, { accountId, purpose: "api-token" }),
    deps.endpoint,
    budget,
    gate,
  );
  try {
    const observed = await withRetry(defaultRetryPolicy(deps.sleep), () =>
      observeAccount(client, accountId, { accountId, objects: [] }, true),
    );
    return { status: "observed", observed };
  } catch (error) {
    return { status: "upstream-failed", message: toUpstreamError(error).message };
  } finally {
    await gate.close();
  }
}
