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
 * `never-run` (no run yet), `failing` (the latest run failed or its token is refused),
 * `degraded` (the latest run was partial), `drifted` (objects differ from Cloudflare now),
 * `overdue` (due more than `overdueAfterMs` ago and not picked up), `healthy` otherwise.
 */
export type AccountState = "never-run" | "failing" | "degraded" | "drifted" | "overdue" | "healthy";

/**
 * What the latest run says about the account's API token: the errors where Cloudflare refused it
 * (401 or 403, as `src/cloudflare/errors.ts` words them: `Cloudflare answered 403 (...)`),
 * deduplicated, in order. Empty when the token worked or no call was made.
 */
export function tokenProblems(errors: readonly { message: string }[]): string[] {
  const refused = errors
    .map((e) => e.message)
    .filter((message) => /^Cloudflare answered 40[13]\b/.test(message));
  return [...new Set(refused)];
}

/** The state of one account; `nextRunAtMs` is when it is due, `nowMs` the reading's instant. */
export function accountState(input: {
  latest: RunFacts | undefined;
  driftedObjects: number;
  nextRunAtMs: number;
  nowMs: number;
  overdueAfterMs: number;
}): AccountState {
  const { latest } = input;
  if (latest === undefined) {
    return "never-run";
  }
  if (latest.outcome === "failed" || tokenProblems(latest.errors).length > 0) {
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
