/**
 * An account's health as an operator reads it, from its latest run and its drifted objects: the
 * one word a list of thousands of accounts can be sorted and filtered by.
 */

/** The run facts the verdict needs (times in epoch ms). */
export interface RunFacts {
  outcome: "running" | "succeeded" | "failed" | "partial";
  errors: readonly { message: string }[];
}

/**
 * `never-run` (no run yet), `failing` (the latest run failed or the token has problems),
 * `degraded` (the latest run was partial), `drifted` (objects differ from Cloudflare now),
 * `overdue` (due more than `overdueAfterMs` ago and not picked up), `healthy` otherwise.
 */
export type AccountState = "never-run" | "failing" | "degraded" | "drifted" | "overdue" | "healthy";

/**
 * What the latest run says about the account's API token beyond missing permissions (those are
 * kept on the account, see `domain/token-permissions.ts`): the errors where Cloudflare refused
 * the token itself (401, or a 403 other than a missing permission, as `src/cloudflare/errors.ts`
 * words them: `Cloudflare answered 401 (...)`), deduplicated, in order. Empty when the token
 * worked or no call was made.
 */
export function refusedTokenErrors(errors: readonly { message: string }[]): string[] {
  const refused = errors
    .map((e) => e.message)
    .filter((message) => /^Cloudflare answered 40[13]\b/.test(message));
  return [...new Set(refused)];
}

/**
 * The state of one account; `nextRunAtMs` is when it is due, `nowMs` the reading's instant,
 * `tokenProblems` how many problems its API token has (missing permissions or refusals).
 */
export function accountState(input: {
  latest: RunFacts | undefined;
  tokenProblems: number;
  driftedObjects: number;
  nextRunAtMs: number;
  nowMs: number;
  overdueAfterMs: number;
}): AccountState {
  const { latest } = input;
  if (latest === undefined) {
    return "never-run";
  }
  if (latest.outcome === "failed" || input.tokenProblems > 0) {
    return "failing";
  }
  if (latest.outcome === "partial") {
    return "degraded";
  }
  if (input.driftedObjects > 0) {
    return "drifted";
  }
  if (input.nowMs - input.nextRunAtMs > input.overdueAfterMs) {
    return "overdue";
  }
  return "healthy";
}
