/**
 * The access delta of a plan: exactly who gains and who loses which connections when
 * Cloudflare's network policies become the desired ones. Unmanaged rules stay in force on both
 * sides (tunnelplane never changes them).
 */
import { z } from "@hono/zod-openapi";
import { accessDelta } from "../../domain/access/delta";
import type { WorkBudgetExceeded } from "../../domain/access/engine";
import { desiredPolicies, observedView, toEvaluable } from "../../domain/explain/view";
import type { DesiredState, ObservedState } from "../../domain/model";
import { ok, type Result } from "../../domain/result";
import {
  IdentitiesSchema,
  PolicyRefSchema,
  TrafficBlockSchema,
  toPolicyRefWire,
  toTrafficWire,
} from "../schemas/access";

export const AccessDeltaSchema = z
  .object({
    changes: z.array(
      z.object({
        identities: IdentitiesSchema,
        change: z.enum(["gains", "loses"]),
        traffic: z.array(TrafficBlockSchema),
        decided_by: PolicyRefSchema.nullable().openapi({
          description: "The policy deciding after the change; null: none matches (Gateway allows).",
        }),
        previously_decided_by: PolicyRefSchema.nullable().openapi({
          description: "The policy deciding before the change; null: none matched.",
        }),
      }),
    ),
    atoms: z.number().int().openapi({
      description:
        "Destination × port × protocol atoms evaluated (where a changed policy may match).",
    }),
    classes: z.number().int().openapi({ description: "Identity classes evaluated." }),
    work_units: z.number().int().openapi({
      description:
        "atoms × classes + atoms × the policies evaluated at them + the steps that enumerate the identity classes.",
    }),
  })
  .openapi("AccessDelta", {
    description:
      "Every connection whose outcome the plan changes, computed exactly over the atoms the policies' bounds define and the identity classes their selectors define. Empty (no changes, zero atoms) when the network policies were skipped: the token may not read them, so there is nothing to compare.",
  });

/**
 * The wire form of the exact access delta between the policies Cloudflare has (`observed`) and
 * the ones it will have once `desired` is applied (derived policies of private apps and grants
 * included; unmanaged rules on both sides); empty when `policiesSkipped` (the token may not read
 * the rules).
 * Errors: `work-budget-exceeded` when the engine's work (see `classesWithin`) passes `workUnits`.
 */
export function planAccessDelta(
  desired: DesiredState,
  observed: ObservedState,
  workUnits: number,
  policiesSkipped = false,
): Result<z.infer<typeof AccessDeltaSchema>, WorkBudgetExceeded> {
  if (policiesSkipped) {
    return ok({ changes: [], atoms: 0, classes: 0, work_units: 0 });
  }
  const view = observedView(observed, "default");
  const before = view.ok ? view.value.policies : [];
  const unmanaged = before.filter((p) => p.id.startsWith("cloudflare:"));
  const after = [
    ...desiredPolicies(desired, observed.networkPolicies).map(toEvaluable),
    ...unmanaged,
  ];
  const delta = accessDelta(before, after, workUnits);
  if (!delta.ok) {
    return delta;
  }
  return ok({
    changes: delta.value.changes.map((c) => ({
      identities: c.identities,
      change: c.change,
      traffic: c.traffic.map(toTrafficWire),
      decided_by: toPolicyRefWire(c.decidedBy),
      previously_decided_by: toPolicyRefWire(c.previouslyDecidedBy),
    })),
    atoms: delta.value.atoms,
    classes: delta.value.classes.length,
    work_units: delta.value.work,
  });
}
