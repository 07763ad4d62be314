/**
 * Network policies tunnelplane derives from other desired state rather than stores: each private
 * app becomes allow/block pairs owned by `<appId>-allow-<n>` / `<appId>-block-<n>` (see
 * private-app-policies.ts), and each active grant becomes one allow policy owned by the grant's
 * id (marker `tunnelplane:<grantId>`). The
 * planner plans them like stored policies, so a derived policy deleted out of band is re-created
 * and one whose grant ended is deleted; ended grants are never derived, so never re-created.
 */
import { grantPolicySpec, type PrecedenceHolder, placeGrantPolicies } from "../grants/policy";
import type { DesiredObject, DesiredState, ObservedNetworkPolicy } from "../model";
import type { PlanWarning } from "./actions";
import { readMarker } from "./ownership";
import { privateAppPolicies } from "./private-app-policies";

/** Derived policies and the problems met deriving them. */
export interface DerivedPolicies {
  objects: DesiredObject<"network_policy">[];
  /** `grant-precedence-exhausted` for an active grant whose policy has no free precedence. */
  warnings: PlanWarning[];
}

/**
 * The policy pairs of the live private apps (at the apps' own precedences), then the allow
 * policies of the account's active grants (`desired.grants`), placed by `placeGrantPolicies`
 * among the stored policies, the apps' policies and the Gateway rules observed in Cloudflare
 * that these grants do not own.
 */
export function derivedNetworkPolicies(
  desired: DesiredState,
  observed: readonly ObservedNetworkPolicy[],
): DerivedPolicies {
  const grants = desired.grants ?? [];
  const grantIds = new Set(grants.map((g) => g.id));
  const appPolicies = desired.objects
    .filter(
      (o): o is DesiredObject<"private_app"> => o.kind === "private_app" && o.deletedAtMs === null,
    )
    .flatMap(privateAppPolicies);
  const stored = [
    ...desired.objects.filter(
      (o): o is DesiredObject<"network_policy"> =>
        o.kind === "network_policy" && o.deletedAtMs === null,
    ),
    ...appPolicies,
  ];
  const holders: PrecedenceHolder[] = [
    ...stored.map(({ spec }) =>
      spec.action === "block"
        ? {
            precedence: spec.precedence,
            block: { destinations: spec.destinations, enabled: spec.enabled },
          }
        : { precedence: spec.precedence },
    ),
    ...observed
      .filter((p) => {
        const owner = readMarker(p.description).ownerId;
        return owner === null || !grantIds.has(owner);
      })
      .map((p) => ({ precedence: p.precedence })),
  ];
  const byId = new Map(grants.map((g) => [g.id, g]));
  const objects: DesiredObject<"network_policy">[] = [...appPolicies];
  const warnings: PlanWarning[] = [];
  for (const placement of placeGrantPolicies(grants, holders)) {
    const grant = byId.get(placement.grantId);
    if (grant === undefined) {
      continue;
    }
    if (placement.precedence === null) {
      warnings.push({
        code: "grant-precedence-exhausted",
        kind: "network_policy",
        key: grant.id,
        message: `no free precedence below ${placement.ceiling} for the policy of grant ${grant.id}`,
      });
      continue;
    }
    objects.push({
      kind: "network_policy",
      id: grant.id,
      version: grant.version,
      spec: grantPolicySpec(grant, placement.precedence),
      cloudflareId: null,
      syncedVersion: grant.policySyncedVersion,
      createRequestedAtMs: null,
      deletedAtMs: null,
    });
  }
  return { objects, warnings };
}
