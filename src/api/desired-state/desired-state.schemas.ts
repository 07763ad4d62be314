/** Wire shapes of the desired-state diff and apply answers. */
import { z } from "@hono/zod-openapi";
import type { AssertionResult } from "../../domain/explain/assertions";
import { Conflict, toConflictResource } from "../conflicts/conflicts.schemas";
import { PlanResult } from "../runs/runs.schemas";
import type { Resolution } from "./resolve";
import type { Review } from "./review";

const ObjectChange = z
  .object({
    op: z.enum(["create", "update", "delete"]),
    kind: z.string().openapi({ example: "tunnel_route" }),
    key: z.string().openapi({
      description:
        "What identifies the object in documents: its name, `<virtual network>|<network>` for a route (empty virtual network: the default), the Cloudflare form of a hostname route, `default` for a singleton; `#2`, `#3`… tell repeated names apart.",
      example: "|10.0.0.0/8",
    }),
    id: z.string().openapi({ description: "tunnelplane id (a new one for a create)." }),
    pointer: z
      .string()
      .nullable()
      .openapi({ description: "JSON pointer of the entry in the document; null for a delete." }),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
    fields: z
      .array(z.object({ field: z.string(), before: z.unknown(), after: z.unknown() }))
      .openapi({ description: "The fields an update changes, in document form." }),
  })
  .openapi("DesiredStateChange");

const Summary = z
  .object({
    create: z.number().int(),
    update: z.number().int(),
    delete: z.number().int(),
    unchanged: z.number().int(),
  })
  .openapi("DesiredStateChangeSummary");

const AssertionOutcome = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    destination_ip: z.string(),
    port: z.number().int().nullable(),
    protocol: z.string().nullable(),
    expect: z.enum(["allow", "deny"]),
    passed: z.boolean(),
    verdict: z.string(),
    summary: z.string().openapi({ description: "Why, in one sentence (explain's summary)." }),
  })
  .openapi("DesiredStateAssertionOutcome");

/** The diff of a document against the account: also the body of a refused apply (`diff`). */
export const DesiredStateDiff = z
  .object({
    version: z.string().openapi({ description: "The account's document version now." }),
    document_version: z
      .string()
      .openapi({ description: "The version the account's document would have after the apply." }),
    acceptable: z
      .boolean()
      .openapi({ description: "True when a PUT of this document would be applied." }),
    summary: Summary,
    changes: z.array(ObjectChange),
    problems: z
      .array(z.object({ pointer: z.string(), detail: z.string(), code: z.string() }))
      .openapi({
        description:
          "What refuses the apply: unknown references, shared values, quotas, error conflicts the change brings, failing assertions; each with its JSON pointer into the document.",
      }),
    conflicts: z
      .array(Conflict)
      .openapi({ description: "Conflicts and warnings of the resulting state." }),
    assertions: z.array(AssertionOutcome),
    plan: PlanResult.nullable().openapi({
      description:
        "What the next reconcile would do in Cloudflare, with the access delta (who gains and who loses what); null when Cloudflare could not be read or `plan=false`.",
    }),
    plan_error: z
      .string()
      .nullable()
      .openapi({ description: "Why `plan` is null when Cloudflare failed." }),
  })
  .openapi("DesiredStateDiff");

/** The answer of an apply. */
export const DesiredStateApplyResult = z
  .object({
    version: z.string().openapi({ description: "The account's document version now." }),
    summary: Summary,
    changes: z.array(ObjectChange),
  })
  .openapi("DesiredStateApplyResult");

function toAssertionOutcome(r: AssertionResult): z.infer<typeof AssertionOutcome> {
  return {
    id: r.id,
    name: r.spec.name,
    email: r.spec.email,
    destination_ip: r.spec.destinationIp,
    port: r.spec.port,
    protocol: r.spec.protocol,
    expect: r.spec.expect,
    passed: r.passed,
    verdict: r.explanation.verdict,
    summary: r.explanation.summary,
  };
}

/** Counts of the changes by operation. */
export function summaryOf(resolution: Resolution): z.infer<typeof Summary> {
  const count = (op: string) => resolution.changes.filter((c) => c.op === op).length;
  return {
    create: count("create"),
    update: count("update"),
    delete: count("delete"),
    unchanged: resolution.unchanged,
  };
}

/** The wire form of a diff, without the Cloudflare plan. */
export function toDiffResource(
  versions: { current: string; after: string },
  resolution: Resolution,
  review: Review,
  plan: { plan: z.infer<typeof PlanResult> | null; error: string | null },
): z.infer<typeof DesiredStateDiff> {
  return {
    version: versions.current,
    document_version: versions.after,
    acceptable: review.problems.length === 0,
    summary: summaryOf(resolution),
    changes: resolution.changes,
    problems: review.problems.flatMap((p) => ("pointer" in p ? [p] : [])),
    conflicts: review.conflicts.map(toConflictResource),
    assertions: review.assertions.map(toAssertionOutcome),
    plan: plan.plan,
    plan_error: plan.error,
  };
}
