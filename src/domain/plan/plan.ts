/**
 * plan(desired, observed): the pure heart of reconciliation. It matches desired objects with the
 * Cloudflare objects tunnelplane owns (by ownership marker, or for tunnels by recorded id), and
 * returns the actions that make Cloudflare equal the desired state. Unowned objects are only
 * reported. Invariant: planning a converged account returns no actions.
 */
import type { DesiredState, Kind, ObservedNetworkPolicy, ObservedState } from "../model";
import type { Binding, Plan } from "./actions";
import { orderForApply } from "./apply-order";
import { derivedNetworkPolicies } from "./derived-policies";
import { planEnrollment } from "./enrollment";
import { planMarked } from "./marked";
import { adoptObservedRange, localFallbackWarnings } from "./observed-account";
import { liveOf, type Planner } from "./planner";
import { orderPolicyWrites } from "./policy-order";
import { planDeviceProfiles, planProxySettings, planSplitTunnels } from "./profiles";
import {
  observedHostnameRoute,
  observedPolicy,
  observedTunnelRoute,
  observedVirtualNetwork,
  renderHostnameRoute,
  renderPolicy,
  renderTunnelRoute,
  renderVirtualNetwork,
} from "./render";
import { planTunnels } from "./tunnels";

function toBindings(kind: Kind, ids: Map<string, string>): Binding[] {
  return [...ids].map(([key, cloudflareId]) => ({ kind, key, cloudflareId }));
}

function invert(map: Map<string, string>): Map<string, string> {
  return new Map([...map].map(([key, id]) => [id, key]));
}

/**
 * Plans the whole account. Pure: same inputs, same plan. The account's initial resolved range is
 * Cloudflare's when the observation read it (see adoptObservedRange).
 * @returns actions in the order they are sent (see orderForApply), the unmanaged objects
 *   found, and warnings (e.g. split tunnel problems).
 */
export function planAccount(stored: DesiredState, observed: ObservedState): Plan {
  const adopted = adoptObservedRange(stored, observed);
  const desired = adopted.desired;
  const out: Planner = {
    actions: [],
    warnings: [...adopted.warnings, ...localFallbackWarnings(desired, observed)],
    unmanaged: [],
  };

  const desiredVnets = liveOf(desired, "virtual_network");
  const vnetIds = planMarked(out, "virtual_network", desiredVnets, observed.virtualNetworks, {
    cloudflareId: (o) => o.cloudflareId,
    markedField: (o) => o.comment,
    label: (o) => o.name,
    render: renderVirtualNetwork,
    toRendered: observedVirtualNetwork,
  });
  const tunnelIds = planTunnels(out, desired, observed.tunnels);

  const desiredDefaultKey = desiredVnets.find((v) => v.spec.isDefault)?.id ?? null;
  const observedDefaultId = observed.virtualNetworks.find((v) => v.isDefault)?.cloudflareId;
  const vnetKeyOf = invert(vnetIds);
  const tunnelKeyOf = invert(tunnelIds);
  const routeIds = planMarked(
    out,
    "tunnel_route",
    liveOf(desired, "tunnel_route"),
    observed.tunnelRoutes,
    {
      cloudflareId: (o) => o.cloudflareId,
      markedField: (o) => o.comment,
      label: (o) => o.network,
      render: (d) => renderTunnelRoute(d, desiredDefaultKey),
      toRendered: (o) =>
        observedTunnelRoute(o, {
          tunnel: (id) => tunnelKeyOf.get(id) ?? `cloudflare:${id}`,
          virtualNetwork: (id) =>
            vnetKeyOf.get(id) ??
            (id === observedDefaultId ? desiredDefaultKey : `cloudflare:${id}`),
        }),
      sameIdentity: (a, b) =>
        a.network === b.network && a.virtualNetworkKey === b.virtualNetworkKey,
    },
  );

  const hostnameRouteIds = planMarked(
    out,
    "hostname_route",
    liveOf(desired, "hostname_route"),
    observed.hostnameRoutes,
    {
      cloudflareId: (o) => o.cloudflareId,
      markedField: (o) => o.comment,
      label: (o) => o.hostname,
      render: renderHostnameRoute,
      toRendered: (o) =>
        observedHostnameRoute(o, (id) => tunnelKeyOf.get(id) ?? `cloudflare:${id}`),
      sameIdentity: (a, b) => a.hostname === b.hostname,
    },
  );

  planSplitTunnels(out, desired, observed);
  const profileIds = planDeviceProfiles(out, desired, observed, desiredDefaultKey);
  planProxySettings(out, desired, observed);

  // Shared rules are evaluated before every local rule and hold no local precedence: they are
  // neither matched, moved nor placed around; only reported.
  const localPolicies = observed.networkPolicies.filter((p) => p.readOnly !== true);
  reportSharedRules(out, observed.networkPolicies);
  const derived = derivedNetworkPolicies(desired, localPolicies);
  out.warnings.push(...derived.warnings);
  const policyIds = planMarked(
    out,
    "network_policy",
    [...liveOf(desired, "network_policy"), ...derived.objects],
    localPolicies,
    {
      cloudflareId: (o) => o.cloudflareId,
      markedField: (o) => o.description,
      label: (o) => o.name,
      render: renderPolicy,
      toRendered: observedPolicy,
    },
  );

  const enrollmentIds = planEnrollment(out, desired, observed.enrollment);

  const bindings: Binding[] = [
    ...toBindings("virtual_network", vnetIds),
    ...toBindings("tunnel", tunnelIds),
    ...toBindings("tunnel_route", routeIds),
    ...toBindings("hostname_route", hostnameRouteIds),
    ...toBindings("device_profile", profileIds),
    ...toBindings("network_policy", policyIds),
    ...toBindings("enrollment_rule", enrollmentIds),
  ];
  return {
    actions: orderForApply(orderPolicyWrites(out.actions, localPolicies), localPolicies),
    bindings,
    unmanaged: out.unmanaged,
    warnings: out.warnings,
  };
}

/**
 * Reports each read-only rule shared from a parent account as unmanaged, with a `shared-rule`
 * warning: Gateway evaluates it before every rule of the account, and tunnelplane never writes,
 * moves or deletes it (Cloudflare refuses to).
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/order-of-enforcement/
 */
function reportSharedRules(out: Planner, rules: readonly ObservedNetworkPolicy[]): void {
  for (const rule of rules) {
    if (rule.readOnly !== true) {
      continue;
    }
    out.unmanaged.push({
      kind: "network_policy",
      cloudflareId: rule.cloudflareId,
      label: rule.name,
    });
    out.warnings.push({
      code: "shared-rule",
      kind: "network_policy",
      key: `cloudflare:${rule.cloudflareId}`,
      message: `Gateway rule "${rule.name}" is shared read-only from account ${rule.sourceAccount ?? "(unknown)"}: it is evaluated before every rule of this account, whatever its precedence (${rule.precedence}), and is never changed here`,
    });
  }
}
