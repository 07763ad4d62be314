/**
 * Which routes the account-wide conflict list can be about, so it can be computed from a few
 * range lookups instead of every route: each conflict but two kinds is about routes nesting with
 * a fixed range (a reserved range, a home LAN, a local WARP default, a user Exclude entry), and
 * duplicates and overlaps are about routes nesting with each other. `findAccountConflicts` over
 * any set of live routes that holds all of those gives the whole account's conflicts, save the
 * order of virtual networks, which `inVirtualNetworkOrder` restores.
 */
import type { ReservedRange } from "../cidr/reserved";
import type { RouteConflict } from "../routes/conflicts";
import { HOME_LAN_RANGES, LOCAL_DEFAULT_EXCLUDES } from "../split-tunnels/defaults";
import type { AccountConflict, ProfileSplitTunnelRef } from "./account";

/**
 * The ranges whose nesting routes (with the routes nesting with each other) hold every route
 * `findAccountConflicts` can report on: the reserved ranges, the home LANs, the local WARP
 * defaults when an `auto` Exclude list carves them, and every Exclude list's address entries;
 * each once, in that order. Null when a profile has a hand-written Include list: a route it
 * does not cover is a problem wherever the route lies, so every route must be read.
 */
export function conflictRanges(
  profiles: readonly ProfileSplitTunnelRef[],
  reservedRanges: readonly ReservedRange[],
): string[] | null {
  if (profiles.some((p) => p.spec.mode === "include" && !p.spec.auto)) {
    return null;
  }
  const excludes = profiles.filter((p) => p.spec.mode === "exclude");
  const ranges = [
    ...reservedRanges.map((r) => r.network),
    ...HOME_LAN_RANGES,
    ...(excludes.some((p) => p.spec.auto) ? LOCAL_DEFAULT_EXCLUDES.map((d) => d.address) : []),
    ...excludes.flatMap((p) => p.spec.entries.flatMap((e) => ("address" in e ? [e.address] : []))),
  ];
  return [...new Set(ranges)];
}

function virtualNetworkOf(conflict: AccountConflict): string | null | undefined {
  return conflict.code === "duplicate-route" || conflict.code === "route-overlap"
    ? conflict.virtualNetworkId
    : undefined;
}

/**
 * `conflicts` with its duplicates and overlaps (which `findRouteConflicts` groups by virtual
 * network in the order the routes it was given first name them) regrouped by `order`, the
 * virtual networks in the order of the account's first route in each; within a virtual network
 * and a code the order is kept, and every other conflict stays where it is.
 */
export function inVirtualNetworkOrder(
  conflicts: readonly AccountConflict[],
  order: readonly (string | null)[],
): AccountConflict[] {
  const rank = new Map(order.map((vnet, i) => [vnet, i]));
  const result = [...conflicts];
  for (const code of ["duplicate-route", "route-overlap"] as const) {
    const slots = conflicts.flatMap((c, i) => (c.code === code ? [i] : []));
    const sorted = slots
      .map((i) => conflicts[i] as RouteConflict)
      .map((c, i) => ({ c, i, rank: rank.get(virtualNetworkOf(c) ?? null) ?? order.length }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i);
    slots.forEach((slot, i) => {
      result[slot] = (sorted[i] as { c: RouteConflict }).c;
    });
  }
  return result;
}
