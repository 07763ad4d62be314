/**
 * What a run learnt about the account's API token: the permissions Cloudflare refused calls for
 * (403 / 10000), as run-record errors and as the account's `token_problems`.
 */
import type { MissingPermissionError } from "../cloudflare/errors";
import type { RunRecord } from "../db/runs.repo";
import {
  describeTokenProblem,
  type TokenProblem,
  tokenProblemOf,
} from "../domain/token-permissions";
import type { RunHeader } from "./summarise";

/**
 * One problem per refused area, naming the permission the account's mode needs there.
 * @param atMs when the run met them, epoch ms.
 */
export function tokenProblemsOf(
  header: Pick<RunHeader, "id" | "mode">,
  refused: readonly MissingPermissionError[],
  atMs: number,
): TokenProblem[] {
  return refused.map((r) =>
    tokenProblemOf(r.area, r.request, header.mode, {
      metBy: "run",
      runId: header.id,
      detectedAtMs: atMs,
    }),
  );
}

/** The run-record errors of token problems: terminal, each naming its permission. */
export function tokenProblemErrors(problems: readonly TokenProblem[]): RunRecord["errors"] {
  return problems.map((p) => ({
    kind: null,
    key: null,
    message: describeTokenProblem(p),
    retryable: false,
    permission: p.permission,
  }));
}

/**
 * The run record with its token problems first among its errors; a run that met any is at best
 * `partial` (what the token may not touch was left as it is).
 */
export function withTokenProblems(run: RunRecord, problems: readonly TokenProblem[]): RunRecord {
  if (problems.length === 0) {
    return run;
  }
  return {
    ...run,
    outcome: run.outcome === "succeeded" ? "partial" : run.outcome,
    errors: [...tokenProblemErrors(problems), ...run.errors],
  };
}
