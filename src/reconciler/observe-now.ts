/**
 * Observations of an account outside a run, for read-only questions about what Cloudflare holds
 * now (plan, explain on the observed state, import). No lease is taken and nothing is written to
 * Cloudflare (only a run writes there); an observation costs what a run's costs (about 10
 * requests: hostname routes and the initial resolved range always read) and is retried like one. Like a run, it reads every kind the API token may read,
 * skips only the kinds Cloudflare refuses for a missing permission, and records on the account
 * what it learnt: the token's problems and the shared Gateway rules it read.
 */
import type Cloudflare from "cloudflare";
import { createCloudflareClient, SubrequestBudget } from "../cloudflare/client";
import { type MissingPermissionError, toUpstreamError } from "../cloudflare/errors";
import { observeReadable } from "../cloudflare/registry";
import {
  type AccountRecord,
  getAccount,
  getSealedApiToken,
  recordObservationStatement,
} from "../db/accounts.repo";
import type { DesiredState, Kind, ObservedState } from "../domain/model";
import {
  kindsOfArea,
  mergeObservedProblems,
  type PermissionArea,
  type ProblemSource,
  type TokenProblem,
  tokenProblemOf,
} from "../domain/token-permissions";
import { openSecret } from "../lib/key-ring";
import type { ReconcileDeps } from "./deps";
import { createRunGate } from "./rate-gate";
import { defaultRetryPolicy, withRetry } from "./retry";

/** Kinds an observation could not read, and the permission the token lacks for them. */
export interface SkippedKinds {
  /** The permission area Cloudflare refused. */
  area: PermissionArea;
  /** The kinds of that area, left out of the answer. */
  kinds: Kind[];
  /** The problem, as recorded on the account. */
  problem: TokenProblem;
}

/** What an observation read: the state (refused kinds empty) and what it skipped. */
export interface ReadableState {
  observed: ObservedState;
  /** One entry per refused area, in adapter order; [] when the token read everything. */
  skipped: SkippedKinds[];
  /** When it was read, epoch ms. */
  observedAtMs: number;
}

/** What an observation gave. */
export type ObserveOutcome =
  | ({ status: "observed"; account: AccountRecord } & ReadableState)
  | { status: "not-found" }
  | { status: "upstream-failed"; message: string };

/**
 * Observes `desired`'s account through `client` (`wide`: see observeReadable), skipping the kinds
 * the token may not read, and records on the account the problems met (merged with the stored
 * ones: see mergeObservedProblems) and the shared Gateway rules when they were read.
 * @throws whatever the SDK throws but a missing permission, after the retries.
 */
export async function observeSkipping(
  deps: ReconcileDeps,
  account: AccountRecord,
  client: Cloudflare,
  desired: DesiredState,
  source: Exclude<ProblemSource, "run">,
  wide = false,
): Promise<ReadableState> {
  const { observed, refused } = await withRetry(defaultRetryPolicy(deps.sleep), () =>
    observeReadable(client, account.id, desired, wide),
  );
  const observedAtMs = deps.nowMs();
  const skipped = skippedOf(account, refused, source, observedAtMs);
  const rulesRead = !skipped.some((s) => s.area === "zero-trust");
  await recordObservationStatement(deps.db, account.id, {
    tokenProblems: mergeObservedProblems(
      account.tokenProblems,
      skipped.map((s) => s.problem),
    ),
    sharedRules: rulesRead
      ? { rules: observed.networkPolicies.filter((p) => p.readOnly === true), observedAtMs }
      : undefined,
  }).run();
  return { observed, skipped, observedAtMs };
}

/** One entry per refused area (its first refusal), naming the permission the account's mode needs. */
function skippedOf(
  account: AccountRecord,
  refused: readonly MissingPermissionError[],
  source: ProblemSource,
  atMs: number,
): SkippedKinds[] {
  const byArea = new Map<PermissionArea, SkippedKinds>();
  for (const refusal of refused) {
    if (!byArea.has(refusal.area)) {
      byArea.set(refusal.area, {
        area: refusal.area,
        kinds: kindsOfArea(refusal.area),
        problem: tokenProblemOf(refusal.area, refusal.request, account.mode, {
          metBy: source,
          runId: null,
          detectedAtMs: atMs,
        }),
      });
    }
  }
  return [...byArea.values()];
}

/**
 * Observes the account now with its own API token and the run's subrequest budget, every route
 * kind included (`wide`), for explain on the observed state and import.
 * @returns the observed state with what was skipped, `not-found` for an unknown account,
 *   `upstream-failed` when Cloudflare keeps failing (a missing permission is skipped, not failed).
 */
export async function observeAccountNow(
  deps: ReconcileDeps,
  accountId: string,
  source: "explain" | "import",
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
    const state = await observeSkipping(
      deps,
      account,
      client,
      { accountId, objects: [] },
      source,
      true,
    );
    return { status: "observed", account, ...state };
  } catch (error) {
    return { status: "upstream-failed", message: toUpstreamError(error).message };
  } finally {
    await gate.close();
  }
}
