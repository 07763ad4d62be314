/**
 * Runs the pure path check of a grant against the account's desired state, with the grant's own
 * allow policy where the planner would place it (so a check before approval answers "would this
 * grant open the path", and one after activation "does it"). Rules shared from a parent account
 * are evaluated first, as last read from Cloudflare (by the activating run, for an activation
 * check); the check says when.
 */
import type { GrantRecord, StoredGrantCheck } from "../db/grants.repo";
import { evaluableRules } from "../domain/explain/view";
import type { GrantPolicySource } from "../domain/grants/grant";
import { checkGrantPath } from "../domain/grants/path-check";
import type { DesiredObject, DesiredState } from "../domain/model";
import { derivedNetworkPolicies } from "../domain/plan/derived-policies";

function liveOf<K extends DesiredObject["kind"]>(desired: DesiredState, kind: K) {
  return desired.objects.filter(
    (o): o is DesiredObject<K> => o.kind === kind && o.deletedAtMs === null,
  );
}

/** The grant as a policy source, as if it were active from `nowMs`. */
function asSource(grant: GrantRecord, nowMs: number): GrantPolicySource {
  return {
    id: grant.id,
    version: grant.version,
    ticket: grant.ticket,
    subjectEmail: grant.subjectEmail,
    destinations: grant.destinations,
    ports: grant.ports,
    protocols: grant.protocols,
    activatedAtMs: grant.activatedAtMs ?? nowMs,
    policyPrecedence: grant.policyPrecedence,
    policySyncedVersion: grant.policySyncedVersion,
  };
}

/**
 * Checks `grant` in `desired` (whose `grants` are the active ones); the grant's policy is added
 * when it is not active yet.
 */
export function checkGrantInDesired(
  desired: DesiredState,
  grant: GrantRecord,
  phase: StoredGrantCheck["phase"],
  nowMs: number,
): StoredGrantCheck {
  const sources = desired.grants ?? [];
  const withGrant: DesiredState = {
    ...desired,
    grants: sources.some((s) => s.id === grant.id) ? sources : [...sources, asSource(grant, nowMs)],
  };
  const derived = derivedNetworkPolicies(withGrant, []).objects;
  const check = checkGrantPath(grant, {
    routes: liveOf(desired, "tunnel_route").map((r) => ({
      network: r.spec.network,
      tunnelId: r.spec.tunnelId,
    })),
    splitTunnel: liveOf(desired, "split_tunnel").find((s) => s.id === "default")?.spec ?? null,
    teamDomain: desired.teamDomain ?? null,
    proxySettings: liveOf(desired, "proxy_settings")[0]?.spec ?? null,
    policies: [...liveOf(desired, "network_policy"), ...derived].map((p) => ({
      id: p.id,
      spec: p.spec,
    })),
    sharedRules: evaluableRules(desired.sharedRules ?? []).policies,
  });
  const observedAtMs = desired.sharedRulesObservedAtMs;
  return {
    ...check,
    phase,
    checkedAtMs: nowMs,
    ...(observedAtMs === undefined ? {} : { sharedRulesObservedAtMs: observedAtMs }),
  };
}
