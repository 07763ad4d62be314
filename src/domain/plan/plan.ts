/**
 * plan(desired, observed): the pure heart of reconciliation. It matches desired objects with the
 * Cloudflare objects tunnelplane owns (by ownership marker, or for tunnels by recorded id), and
 * returns the actions that make Cloudflare equal the desired state. Unowned objects are only
 * reported. Invariant: planning a converged account returns no actions.
 */
import {
  type DesiredObject,
  type DesiredState,
  KINDS,
  type Kind,
  type ObservedState,
  type ObservedTunnel,
} from "../model";
import { effectiveSplitTunnel, type SplitTunnelProblem } from "../split-tunnels/effective";
import type {
  Action,
  Binding,
  Plan,
  PlanWarning,
  RenderedByKind,
  UnmanagedObject,
} from "./actions";
import { derivedNetworkPolicies } from "./derived-policies";
import { observedDeviceProfile, profileSplitTunnels, renderDeviceProfile } from "./device-profiles";
import { diffFields } from "./diff";
import { planEnrollment } from "./enrollment";
import { readMarker } from "./ownership";
import { orderPolicyWrites } from "./policy-order";
import {
  canonicalSplitTunnelEntries,
  observedPolicy,
  observedSplitTunnel,
  observedTunnelRoute,
  observedVirtualNetwork,
  renderPolicy,
  renderTunnelRoute,
  renderVirtualNetwork,
} from "./render";

/** Dependency order of kinds: creates and updates run in it, deletes in reverse. */
export const APPLY_ORDER: readonly Kind[] = KINDS;

/**
 * A tunnel created at most this long before our create request was sent is taken to be the
 * result of that request (a lost response), allowing for clock skew between us and Cloudflare.
 */
const CREATE_MATCH_SKEW_MS = 60_000;

function liveOf<K extends Kind>(desired: DesiredState, kind: K): DesiredObject<K>[] {
  return desired.objects.filter(
    (o): o is DesiredObject<K> => o.kind === kind && o.deletedAtMs === null,
  );
}

function isDrift(object: DesiredObject): boolean {
  return object.syncedVersion === object.version;
}

/** Groups observed objects by the owner id in their marker; unmarked ones go to `unmarked`. */
function byOwner<T>(items: T[], field: (item: T) => string) {
  const owned = new Map<string, T[]>();
  const unmarked: T[] = [];
  for (const item of items) {
    const { ownerId } = readMarker(field(item));
    if (ownerId === null) {
      unmarked.push(item);
    } else {
      owned.set(ownerId, [...(owned.get(ownerId) ?? []), item]);
    }
  }
  return { owned, unmarked };
}

interface Planner {
  actions: Action[];
  warnings: PlanWarning[];
  unmanaged: UnmanagedObject[];
}

/**
 * Plans one kind whose objects carry the marker. Desired objects without a counterpart are
 * created (or, when `adopt` finds an orphan of ours with the same identity, that orphan is
 * updated instead of a duplicate being created); counterparts that differ are updated; marked
 * objects whose owner is gone, and duplicates left by lost create responses, are deleted.
 */
function planMarked<
  K extends "virtual_network" | "tunnel_route" | "device_profile" | "network_policy",
  O,
>(
  out: Planner,
  kind: K,
  desired: DesiredObject<K>[],
  observed: O[],
  access: {
    cloudflareId: (o: O) => string;
    markedField: (o: O) => string;
    label: (o: O) => string;
    render: (d: DesiredObject<K>) => RenderedByKind[K];
    toRendered: (o: O) => RenderedByKind[K];
    sameIdentity?: (a: RenderedByKind[K], b: RenderedByKind[K]) => boolean;
  },
): Map<string, string> {
  const { owned, unmarked } = byOwner(observed, access.markedField);
  const liveIds = new Set(desired.map((d) => d.id));
  const orphans = [...owned.entries()]
    .filter(([ownerId]) => !liveIds.has(ownerId))
    .flatMap(([ownerId, items]) => items.map((item) => ({ ownerId, item })));
  const adopted = new Set<O>();
  const keyToCloudflareId = new Map<string, string>();
  const push = (action: Action<K>) => out.actions.push(action as Action);

  for (const d of desired) {
    const want = access.render(d);
    const [first, ...extra] = owned.get(d.id) ?? [];
    const orphan =
      first === undefined
        ? orphans.find(
            ({ item }) =>
              !adopted.has(item) && access.sameIdentity?.(access.toRendered(item), want) === true,
          )
        : undefined;
    const counterpart = first ?? orphan?.item;
    if (counterpart === undefined) {
      push({
        op: "create",
        kind,
        key: d.id,
        reason: "missing in Cloudflare",
        diff: [],
        desired: want,
        isDrift: isDrift(d),
      });
      continue;
    }
    if (orphan !== undefined) {
      adopted.add(orphan.item);
    }
    const cloudflareId = access.cloudflareId(counterpart);
    keyToCloudflareId.set(d.id, cloudflareId);
    const diff = diffFields(access.toRendered(counterpart) as object, want as object);
    if (diff.length > 0) {
      const reason = orphan
        ? "taken over from a deleted object with the same identity"
        : "differs from the desired state";
      push({
        op: "update",
        kind,
        key: d.id,
        cloudflareId,
        reason,
        diff,
        desired: want,
        isDrift: orphan ? false : isDrift(d),
      });
    }
    for (const duplicate of extra) {
      push({
        op: "delete",
        kind,
        key: d.id,
        cloudflareId: access.cloudflareId(duplicate),
        reason: "duplicate of an owned object",
        diff: [],
        isDrift: false,
      });
    }
  }
  for (const { ownerId, item } of orphans) {
    if (!adopted.has(item)) {
      push({
        op: "delete",
        kind,
        key: ownerId,
        cloudflareId: access.cloudflareId(item),
        reason: "no longer desired",
        diff: [],
        isDrift: false,
      });
    }
  }
  for (const item of unmarked) {
    out.unmanaged.push({
      kind,
      cloudflareId: access.cloudflareId(item),
      label: access.label(item),
    });
  }
  return keyToCloudflareId;
}

/**
 * Tunnels have no free-text field, so ownership is the Cloudflare id recorded after the create.
 * A desired tunnel with no recorded id whose create was sent is matched by name to a tunnel
 * created since (the create's response was lost); tombstones with a recorded id are deleted.
 */
function planTunnels(out: Planner, desired: DesiredState, observed: ObservedTunnel[]) {
  const byId = new Map(observed.map((t) => [t.cloudflareId, t]));
  const claimed = new Set<string>();
  const keyToCloudflareId = new Map<string, string>();
  for (const d of liveOf(desired, "tunnel")) {
    const recorded = d.cloudflareId === null ? undefined : byId.get(d.cloudflareId);
    const requestedAtMs = d.createRequestedAtMs;
    const match =
      recorded ??
      (requestedAtMs === null
        ? undefined
        : observed.find(
            (t) => t.name === d.spec.name && t.createdAtMs >= requestedAtMs - CREATE_MATCH_SKEW_MS,
          ));
    if (match === undefined) {
      out.actions.push({
        op: "create",
        kind: "tunnel",
        key: d.id,
        reason: "missing in Cloudflare",
        diff: [],
        desired: { name: d.spec.name },
        isDrift: isDrift(d),
      });
      continue;
    }
    claimed.add(match.cloudflareId);
    keyToCloudflareId.set(d.id, match.cloudflareId);
    const diff = diffFields({ name: match.name }, { name: d.spec.name });
    if (diff.length > 0) {
      out.actions.push({
        op: "update",
        kind: "tunnel",
        key: d.id,
        cloudflareId: match.cloudflareId,
        reason: "differs from the desired state",
        diff,
        desired: { name: d.spec.name },
        isDrift: isDrift(d),
      });
    }
  }
  for (const d of desired.objects) {
    if (
      d.kind === "tunnel" &&
      d.deletedAtMs !== null &&
      d.cloudflareId !== null &&
      byId.has(d.cloudflareId)
    ) {
      claimed.add(d.cloudflareId);
      out.actions.push({
        op: "delete",
        kind: "tunnel",
        key: d.id,
        cloudflareId: d.cloudflareId,
        reason: "no longer desired",
        diff: [],
        isDrift: false,
      });
    }
  }
  for (const t of observed) {
    if (!claimed.has(t.cloudflareId)) {
      out.unmanaged.push({ kind: "tunnel", cloudflareId: t.cloudflareId, label: t.name });
    }
  }
  return keyToCloudflareId;
}

function toBindings(kind: Kind, ids: Map<string, string>): Binding[] {
  return [...ids].map(([key, cloudflareId]) => ({ kind, key, cloudflareId }));
}

function invert(map: Map<string, string>): Map<string, string> {
  return new Map([...map].map(([key, id]) => [id, key]));
}

/**
 * Plans the whole account. Pure: same inputs, same plan.
 * @returns actions (creates/updates in APPLY_ORDER, then deletes in reverse order), the
 *   unmanaged objects found, and warnings (e.g. split tunnel problems).
 */
export function planAccount(desired: DesiredState, observed: ObservedState): Plan {
  const out: Planner = { actions: [], warnings: [], unmanaged: [] };

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

  planSplitTunnels(out, desired, observed);
  const profileIds = planDeviceProfiles(out, desired, observed, desiredDefaultKey);
  planProxySettings(out, desired, observed);

  const derived = derivedNetworkPolicies(desired, observed.networkPolicies);
  out.warnings.push(...derived.warnings);
  const policyIds = planMarked(
    out,
    "network_policy",
    [...liveOf(desired, "network_policy"), ...derived.objects],
    observed.networkPolicies,
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
    ...toBindings("device_profile", profileIds),
    ...toBindings("network_policy", policyIds),
    ...toBindings("enrollment_rule", enrollmentIds),
  ];
  return {
    actions: orderPolicyWrites(orderActions(out.actions), observed.networkPolicies),
    bindings,
    unmanaged: out.unmanaged,
    warnings: out.warnings,
  };
}

function planSplitTunnels(out: Planner, desired: DesiredState, observed: ObservedState) {
  const routed = liveOf(desired, "tunnel_route").map((r) => r.spec.network);
  for (const d of liveOf(desired, "split_tunnel")) {
    const effective = effectiveSplitTunnel(d.spec, routed);
    for (const problem of effective.problems) {
      out.warnings.push({
        code: problem.code,
        kind: "split_tunnel",
        key: d.id,
        message: describeSplitTunnelProblem(problem),
      });
    }
    const want = {
      profileId: d.id,
      mode: d.spec.mode,
      entries: canonicalSplitTunnelEntries(
        effective.entries.map((e) =>
          "address" in e
            ? { address: e.address, description: e.description }
            : { host: e.host, description: e.description },
        ),
      ),
    };
    const current = observed.splitTunnels.find((s) => s.profileId === d.id);
    const diff = current === undefined ? [] : diffFields(observedSplitTunnel(current), want);
    if (current === undefined || diff.length > 0) {
      const reason =
        current === undefined ? "device profile not found" : "differs from the desired state";
      out.actions.push({
        op: "update",
        kind: "split_tunnel",
        key: d.id,
        cloudflareId: d.id,
        reason,
        diff,
        desired: want,
        isDrift: isDrift(d),
      });
    }
  }
}

/**
 * Custom device profiles, matched by the marker in their description. Each profile's list follows
 * the routes of the virtual networks it names; its split tunnel problems become warnings.
 */
function planDeviceProfiles(
  out: Planner,
  desired: DesiredState,
  observed: ObservedState,
  defaultVirtualNetworkKey: string | null,
): Map<string, string> {
  const profiles = liveOf(desired, "device_profile");
  const routes = liveOf(desired, "tunnel_route").map((r) => r.spec);
  const effective = profileSplitTunnels(profiles, routes, defaultVirtualNetworkKey);
  for (const [key, list] of effective) {
    for (const problem of list.problems) {
      out.warnings.push({
        code: problem.code,
        kind: "device_profile",
        key,
        message: describeSplitTunnelProblem(problem),
      });
    }
  }
  return planMarked(out, "device_profile", profiles, observed.deviceProfiles, {
    cloudflareId: (o) => o.cloudflareId,
    markedField: (o) => o.description,
    label: (o) => o.name,
    render: (d) => renderDeviceProfile(d, effective.get(d.id) ?? { entries: [], problems: [] }),
    toRendered: observedDeviceProfile,
  });
}

/** One sentence about a split tunnel problem, for run records and API warnings. */
export function describeSplitTunnelProblem(problem: SplitTunnelProblem): string {
  const lost = problem.unreachable.join(", ");
  return problem.code === "route-excluded"
    ? `route ${problem.routeNetwork} is unreachable through WARP: the Exclude entry ${"address" in problem.entry ? problem.entry.address : problem.entry.host} sends ${lost} around it`
    : `route ${problem.routeNetwork} is unreachable through WARP: no Include entry covers ${lost}`;
}

function planProxySettings(out: Planner, desired: DesiredState, observed: ObservedState) {
  for (const d of liveOf(desired, "proxy_settings")) {
    const diff = diffFields(observed.proxySettings, d.spec);
    if (diff.length > 0) {
      out.actions.push({
        op: "update",
        kind: "proxy_settings",
        key: d.id,
        cloudflareId: d.id,
        reason: "differs from the desired state",
        diff,
        desired: d.spec,
        isDrift: isDrift(d),
      });
    }
  }
}

/**
 * Creates and updates first, kinds in dependency order (a route's tunnel exists before the
 * route); then deletes in reverse order (a policy goes before the route it covers, a route before
 * its tunnel). Deleting last means a route moved off a tunnel is moved before the tunnel goes.
 */
function orderActions(actions: Action[]): Action[] {
  const rank = (kind: Kind) => APPLY_ORDER.indexOf(kind);
  const writes = actions.filter((a) => a.op !== "delete");
  const deletes = actions.filter((a) => a.op === "delete");
  return [
    ...writes.sort((a, b) => rank(a.kind) - rank(b.kind)),
    ...deletes.sort((a, b) => rank(b.kind) - rank(a.kind)),
  ];
}
