/**
 * The access delta of a plan: who gains and who loses access to which destinations and ports
 * when Cloudflare's network policies become the desired ones. Unmanaged rules stay in force on
 * both sides (tunnelplane never changes them).
 */
import { z } from "@hono/zod-openapi";
import { desiredPolicies, observedView, toEvaluable } from "../../domain/explain/view";
import type { DesiredState, ObservedState } from "../../domain/model";
import { accessDelta, evaluationUnits } from "../../domain/policies/access-delta";
import { probeBudget } from "../../domain/quotas";

export const AccessDeltaSchema = z
  .object({
    changes: z.array(
      z.object({
        subject: z.string().openapi({
          description:
            "`email:<address>`, `regex:<pattern>` (probed with a sample address), `lookalike:<sample>` (the sample with `.lookalike.invalid` appended), `group:<name>` or `everyone-else`.",
        }),
        email: z.string().openapi({ description: "The address the probe used." }),
        groups: z.array(z.string()),
        destination: z
          .string()
          .openapi({ description: "The destination network (canonical CIDR)." }),
        port: z
          .number()
          .int()
          .nullable()
          .openapi({ description: "The port probed; null: a port no changed policy names." }),
        protocol: z.enum(["tcp", "udp", "icmp"]),
        change: z.enum(["gains", "loses"]),
        decided_by: z.string().nullable().openapi({
          description: "Name of the policy deciding after the change; null: none matches.",
        }),
      }),
    ),
    probes: z.number().int().openapi({ description: "Probe connections evaluated." }),
    truncated: z.boolean().openapi({
      description:
        "True when not every probe was evaluated: past 5,000 probes, or past the account's work_units budget.",
    }),
  })
  .openapi("AccessDelta", {
    description:
      "Connections whose outcome the plan changes, probed from what the changed policies name.",
  });

/**
 * The wire form of the access delta between `observed` and `desired`, evaluating at most
 * `workUnits` selector units in all (the probes are cut, and the delta marked `truncated`, past
 * them).
 */
export function planAccessDelta(
  desired: DesiredState,
  observed: ObservedState,
  workUnits: number,
): z.infer<typeof AccessDeltaSchema> {
  const view = observedView(observed, "default");
  const before = view.ok ? view.value.policies : [];
  const unmanaged = before.filter((p) => p.id.startsWith("cloudflare:"));
  const after = [
    ...desiredPolicies(desired, observed.networkPolicies).map(toEvaluable),
    ...unmanaged,
  ];
  const unitsPerProbe = evaluationUnits(before) + evaluationUnits(after);
  const delta = accessDelta(before, after, probeBudget(workUnits, unitsPerProbe));
  return {
    changes: delta.changes.map((c) => ({
      subject: c.subject.label,
      email: c.subject.email,
      groups: c.subject.groups,
      destination: c.destination,
      port: c.port,
      protocol: c.protocol,
      change: c.change,
      decided_by: c.decidedBy,
    })),
    probes: delta.probes,
    truncated: delta.truncated,
  };
}
