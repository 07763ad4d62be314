/** Wire shapes of plans and run records. */
import { z } from "@hono/zod-openapi";
import type { RunRecord } from "../../db/runs.repo";
import type { Plan } from "../../domain/plan/actions";
import { summariseRendered } from "../../domain/plan/list-change";
import type { SkippedKinds } from "../../reconciler/observe-now";
import { SkippedList, toSkippedResource } from "../schemas/skipped";
import { AccessDeltaSchema } from "./access-delta";

const FieldDiff = z
  .object({ field: z.string(), observed: z.unknown(), desired: z.unknown() })
  .openapi("FieldDiff");

export const PlannedAction = z
  .object({
    op: z.enum(["create", "update", "delete"]),
    kind: z.string().openapi({ example: "tunnel_route" }),
    key: z.string().openapi({ description: "tunnelplane id of the object." }),
    cloudflare_id: z.string().nullable(),
    reason: z.string(),
    is_drift: z
      .boolean()
      .openapi({ description: "True when Cloudflare changed an object that was in sync." }),
    diff: z.array(FieldDiff),
    desired: z.unknown().openapi({
      description:
        "What will be sent (Cloudflare's shape); absent for deletes. A split tunnel list longer than 10 entries shows its first 10 and `entriesCount`; the diff of `entries` tells the change as counts and the first 10 added and removed.",
    }),
  })
  .openapi("PlannedAction");

export const PlanResult = z
  .object({
    actions: z.array(PlannedAction),
    access_delta: AccessDeltaSchema,
    unmanaged: z.array(
      z.object({ kind: z.string(), cloudflare_id: z.string(), label: z.string() }),
    ),
    warnings: z.array(
      z.object({ code: z.string(), kind: z.string(), key: z.string(), message: z.string() }),
    ),
    skipped: SkippedList,
  })
  .openapi("Plan");

export const Run = z
  .object({
    id: z.string(),
    account_id: z.string(),
    trigger: z.enum(["api", "cron", "queue", "alarm"]),
    mode: z.enum(["enforce", "observe", "plan"]),
    outcome: z.enum(["running", "succeeded", "failed", "partial"]),
    fencing_token: z.number().int().nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    counts: z.object({
      observed: z.number().int(),
      planned: z.number().int(),
      applied: z.number().int(),
      failed: z.number().int(),
      deferred: z.number().int(),
      unmanaged: z.number().int(),
      subrequests: z.number().int().openapi({ description: "HTTP requests sent to Cloudflare." }),
    }),
    actions: z.array(
      z.object({
        op: z.string(),
        kind: z.string(),
        key: z.string(),
        reason: z.string(),
        is_drift: z.boolean(),
        diff: z.array(FieldDiff),
        outcome: z.enum(["planned", "applied", "failed", "deferred", "skipped"]),
        cloudflare_id: z.string().nullable(),
        error: z.string().nullable(),
      }),
    ),
    drift: z
      .array(z.object({ kind: z.string(), key: z.string(), reason: z.string() }))
      .openapi({ description: "Objects Cloudflare changed behind tunnelplane's back." }),
    errors: z.array(
      z.object({
        kind: z.string().nullable(),
        key: z.string().nullable(),
        message: z.string(),
        retryable: z.boolean(),
        permission: z.string().optional().openapi({
          description:
            "For a call Cloudflare refused with 403 / 10000: the token permission missing (see the account's token_problems).",
          example: "Zero Trust: Edit",
        }),
      }),
    ),
    continued: z.boolean().openapi({
      description:
        "True when the run stopped at its subrequest budget, the account's share of the rate limit or a rate-limit hold; `counts.deferred` says how many actions were left.",
    }),
    continue_at: z.string().nullable().openapi({
      description:
        "When the work left by a continued run resumes (a queued follow-up run, or the account's next due time); null when nothing was left.",
      example: "2026-01-01T00:05:00.000Z",
    }),
  })
  .openapi("Run");

/** The wire form of a plan. */
export function toPlanResource(
  plan: Plan,
  accessDelta: z.infer<typeof AccessDeltaSchema>,
  skipped: readonly SkippedKinds[],
): z.infer<typeof PlanResult> {
  return {
    access_delta: accessDelta,
    actions: plan.actions.map((a) => ({
      op: a.op,
      kind: a.kind,
      key: a.key,
      cloudflare_id: a.op === "create" ? null : a.cloudflareId,
      reason: a.reason,
      is_drift: a.isDrift,
      diff: a.diff,
      desired: a.op === "delete" ? undefined : summariseRendered(a.desired),
    })),
    unmanaged: plan.unmanaged.map((u) => ({
      kind: u.kind,
      cloudflare_id: u.cloudflareId,
      label: u.label,
    })),
    warnings: plan.warnings,
    skipped: toSkippedResource(skipped),
  };
}

/** The wire form of a run record. */
export function toRunResource(run: RunRecord): z.infer<typeof Run> {
  return {
    id: run.id,
    account_id: run.accountId,
    trigger: run.trigger,
    mode: run.mode,
    outcome: run.outcome,
    fencing_token: run.fencingToken,
    started_at: new Date(run.startedAtMs).toISOString(),
    finished_at: run.finishedAtMs === null ? null : new Date(run.finishedAtMs).toISOString(),
    counts: run.counts,
    actions: run.actions.map((a) => ({
      op: a.op,
      kind: a.kind,
      key: a.key,
      reason: a.reason,
      is_drift: a.isDrift,
      diff: a.diff,
      outcome: a.outcome,
      cloudflare_id: a.cloudflareId,
      error: a.error,
    })),
    drift: run.drift,
    errors: run.errors,
    continued: run.continued,
    continue_at: run.continueAtMs === null ? null : new Date(run.continueAtMs).toISOString(),
  };
}
