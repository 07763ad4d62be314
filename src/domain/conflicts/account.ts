/**
 * Every conflict and warning in one account: route conflicts (duplicates, cross-tunnel overlaps,
 * reserved ranges, home LANs) and the split tunnel problems of every device profile. Pure: the
 * caller loads the desired state; the same input gives the same list in the same order.
 */
import type { ReservedRange } from "../cidr/reserved";
import type { SplitTunnelProfileSpec } from "../model";
import { findRouteConflicts, type RouteConflict, type RouteRef } from "../routes/conflicts";
import type { HostnameRouteLocalFallback } from "../routes/local-fallback";
import {
  effectiveSplitTunnel,
  type SplitTunnelAccountSettings,
  type SplitTunnelProblem,
  splitTunnelRouteProblems,
} from "../split-tunnels/effective";
import { selectRoutes } from "../split-tunnels/profile-routes";
import type { HostnameRouteProxyOff } from "./hostname-routes";
import type { PrivateAppUnreachable } from "./private-apps";

/** A device profile's split tunnel as the account check sees it. */
export interface ProfileSplitTunnelRef {
  /** `split_tunnel` for the default device profile, `device_profile` for a custom one. */
  kind: "split_tunnel" | "device_profile";
  /** `default`, or the device profile's tunnelplane id. */
  id: string;
  spec: SplitTunnelProfileSpec;
  /** Virtual networks the profile follows (see `selectRoutes`); null means all. */
  virtualNetworkIds: string[] | null;
}

/** A split tunnel problem of one profile, with the routes (ids) that announce its network. */
export type ProfileProblem = SplitTunnelProblem & {
  profile: { kind: ProfileSplitTunnelRef["kind"]; id: string };
  /**
   * tunnelplane ids of the profile's routes with network `routeNetwork`, in input order; empty
   * for team domain problems.
   */
  routeIds: string[];
};

/** Any conflict found in an account; `code` tells them apart. */
export type AccountConflict =
  | RouteConflict
  | ProfileProblem
  | HostnameRouteProxyOff
  | HostnameRouteLocalFallback
  | PrivateAppUnreachable;

/**
 * Every conflict in the account: first `findRouteConflicts(routes)` in its order, then each
 * profile's split tunnel problems (`effectiveSplitTunnel` over the routes the profile follows)
 * in profile order, each problem in the order `effectiveSplitTunnel` gives.
 * `defaultVirtualNetworkId` is the desired default virtual network's id, or null; `account`
 * carries the team domain Include-mode profiles need; `reservedRanges` are the account's
 * (`reservedRangesFor` its initial resolved range; absent: those of a default account).
 * Networks must be canonical CIDRs (stored state is); anything else throws `RangeError`.
 */
export function findAccountConflicts(
  routes: readonly RouteRef[],
  profiles: readonly ProfileSplitTunnelRef[],
  defaultVirtualNetworkId: string | null,
  account: SplitTunnelAccountSettings,
  reservedRanges?: readonly ReservedRange[],
): AccountConflict[] {
  const conflicts: AccountConflict[] = findRouteConflicts(routes, reservedRanges);
  for (const profile of profiles) {
    const followed = selectRoutes(profile.virtualNetworkIds, routes, defaultVirtualNetworkId);
    const { problems } = effectiveSplitTunnel(
      profile.spec,
      followed.map((route) => route.network),
      account,
    );
    for (const problem of problems) {
      conflicts.push({
        ...problem,
        profile: { kind: profile.kind, id: profile.id },
        routeIds:
          "routeNetwork" in problem
            ? followed
                .filter((route) => route.network === problem.routeNetwork)
                .map((route) => route.id)
            : [],
      });
    }
  }
  return conflicts;
}

/**
 * The split tunnel problems of one route in every profile that follows its virtual network, in
 * profile order: what `findAccountConflicts` reports about the route's network, computed from
 * that route alone (a route's problems depend on the profile and the route only), so a route
 * write costs the same whatever the number of routes. `routeIds` holds just `route.id`.
 * The network must be a canonical CIDR; anything else throws `RangeError`.
 */
export function routeProfileProblems(
  route: RouteRef,
  profiles: readonly ProfileSplitTunnelRef[],
  defaultVirtualNetworkId: string | null,
): ProfileProblem[] {
  return profiles.flatMap((profile) =>
    selectRoutes(profile.virtualNetworkIds, [route], defaultVirtualNetworkId).length === 0
      ? []
      : splitTunnelRouteProblems(profile.spec, [route.network]).map((problem) => ({
          ...problem,
          profile: { kind: profile.kind, id: profile.id },
          routeIds: [route.id],
        })),
  );
}
