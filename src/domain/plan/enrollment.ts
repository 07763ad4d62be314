/**
 * Enrollment rules -> Cloudflare's device enrollment permissions: each rule is one reusable
 * Access policy (decision `allow`) linked to the account's `warp` Access app. Access policies have
 * no description, so the ownership marker ends the policy `name`. The `warp` app is shared: only
 * tunnelplane's links are added or removed, links to other policies are kept first in their
 * order, and the app itself is created when missing but never deleted.
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/deployment/device-enrollment/
 */
import type {
  DesiredObject,
  DesiredState,
  ObservedAccessPolicy,
  ObservedEnrollment,
} from "../model";
import type {
  Action,
  PlanWarning,
  RenderedEnrollmentPolicy,
  RenderedWarpApp,
  UnmanagedObject,
} from "./actions";
import { diffFields } from "./diff";
import { readMarker, withMarker } from "./ownership";

/** The action key of the `warp` app (it belongs to no single rule). */
export const WARP_APP_KEY = "warp-app";

interface Out {
  actions: Action[];
  warnings: PlanWarning[];
  unmanaged: UnmanagedObject[];
}

/** The Access policy tunnelplane sends for a rule: emails, then domains, then groups, sorted. */
export function renderEnrollmentPolicy(
  object: DesiredObject<"enrollment_rule">,
): RenderedEnrollmentPolicy {
  const { name, emails, emailDomains, groups } = object.spec;
  return {
    target: "access_policy",
    name: withMarker(name, object.id),
    decision: "allow",
    include: [
      ...[...emails].sort().map((email) => ({ email: { email } })),
      ...[...emailDomains].sort().map((domain) => ({ email_domain: { domain } })),
      ...[...groups].sort().map((id) => ({ group: { id } })),
    ],
    exclude: [],
    require: [],
  };
}

function observedPolicy(policy: ObservedAccessPolicy): RenderedEnrollmentPolicy {
  return {
    target: "access_policy",
    name: policy.name,
    decision: policy.decision,
    include: policy.include,
    exclude: policy.exclude,
    require: policy.require,
  };
}

function isDrift(object: DesiredObject): boolean {
  return object.syncedVersion === object.version;
}

/**
 * Plans the enrollment rules. Does nothing when Access was not observed (`observed` undefined:
 * the account had no enrollment rule when the run started). Policies are matched by the marker
 * in their name: missing ones are created, differing ones replaced, marked ones whose rule is
 * gone deleted (after the app stops linking them, since Access refuses to delete a linked
 * policy); unmarked policies are reported as unmanaged. Then the `warp` app is created or its
 * links updated so that it links exactly the kept links plus every live rule's policy.
 * @returns tunnelplane key -> Cloudflare id of each rule already matched.
 */
export function planEnrollment(
  out: Out,
  desired: DesiredState,
  observed: ObservedEnrollment | undefined,
): Map<string, string> {
  const ids = new Map<string, string>();
  if (observed === undefined) {
    return ids;
  }
  const rules = desired.objects.filter(
    (o): o is DesiredObject<"enrollment_rule"> =>
      o.kind === "enrollment_rule" && o.deletedAtMs === null,
  );
  const liveIds = new Set(rules.map((r) => r.id));
  const ownerOf = new Map(
    observed.accessPolicies.map((p) => [p.cloudflareId, readMarker(p.name).ownerId]),
  );
  const orphans: { ownerId: string; policy: ObservedAccessPolicy }[] = [];
  const owned = new Map<string, ObservedAccessPolicy>();
  for (const policy of observed.accessPolicies) {
    const ownerId = ownerOf.get(policy.cloudflareId) ?? null;
    if (ownerId === null) {
      out.unmanaged.push({
        kind: "enrollment_rule",
        cloudflareId: policy.cloudflareId,
        label: policy.name,
      });
    } else if (!liveIds.has(ownerId) || owned.has(ownerId)) {
      orphans.push({ ownerId, policy });
    } else {
      owned.set(ownerId, policy);
    }
  }
  for (const rule of rules) {
    const want = renderEnrollmentPolicy(rule);
    const current = owned.get(rule.id);
    if (current === undefined) {
      out.actions.push({
        op: "create",
        kind: "enrollment_rule",
        key: rule.id,
        reason: "missing in Cloudflare",
        diff: [],
        desired: want,
        isDrift: isDrift(rule),
      });
      continue;
    }
    ids.set(rule.id, current.cloudflareId);
    const diff = diffFields(observedPolicy(current), want);
    if (diff.length > 0) {
      out.actions.push({
        op: "update",
        kind: "enrollment_rule",
        key: rule.id,
        cloudflareId: current.cloudflareId,
        reason: "differs from the desired state",
        diff,
        desired: want,
        isDrift: isDrift(rule),
      });
    }
  }
  planWarpApp(out, rules, observed, ownerOf);
  for (const { ownerId, policy } of orphans) {
    out.actions.push({
      op: "delete",
      kind: "enrollment_rule",
      key: ownerId,
      cloudflareId: policy.cloudflareId,
      reason: "no longer desired",
      diff: [],
      isDrift: false,
    });
  }
  return ids;
}

function planWarpApp(
  out: Out,
  rules: DesiredObject<"enrollment_rule">[],
  observed: ObservedEnrollment,
  ownerOf: Map<string, string | null>,
) {
  const app = observed.warpApp;
  const linked = app?.policyIds ?? [];
  const current: RenderedWarpApp = {
    target: "warp_app",
    keptPolicyIds: linked.filter((id) => (ownerOf.get(id) ?? null) === null),
    policyKeys: linked.flatMap((id) => {
      const owner = ownerOf.get(id) ?? null;
      return owner === null ? [] : [owner];
    }),
    preserved: app?.preserved ?? {},
  };
  const want: RenderedWarpApp = { ...current, policyKeys: rules.map((r) => r.id) };
  if (app === null) {
    if (rules.length > 0) {
      out.actions.push({
        op: "create",
        kind: "enrollment_rule",
        key: WARP_APP_KEY,
        reason: "the account has no device enrollment (warp) app",
        diff: [],
        desired: want,
        isDrift: false,
      });
    }
    return;
  }
  const diff = diffFields(current, want);
  if (diff.length > 0) {
    out.actions.push({
      op: "update",
      kind: "enrollment_rule",
      key: WARP_APP_KEY,
      cloudflareId: app.cloudflareId,
      reason: "its enrollment policy links differ from the enrollment rules",
      diff,
      desired: want,
      isDrift: false,
    });
  }
}
