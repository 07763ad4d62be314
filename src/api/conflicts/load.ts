/**
 * Reads what the account-wide checks need from the desired state: routes, the desired default
 * virtual network, every profile's split tunnel (the default profile first, then custom
 * profiles by ascending precedence) and the account's team domain.
 */

import { getAccount } from "../../db/accounts.repo";
import type { Db } from "../../db/client";
import {
  getDefaultVirtualNetworkId,
  getObject,
  listAllObjects,
  type StoredObject,
} from "../../db/desired-objects.repo";
import { listNestingRoutes, listRoutesNestingWith } from "../../db/route-ranges.repo";
import { canonicalKnownCidr } from "../../domain/cidr/known";
import {
  DEFAULT_INITIAL_RESOLVED_IPV4,
  type ReservedRange,
  reservedRangesFor,
} from "../../domain/cidr/reserved";
import type { ProfileSplitTunnelRef } from "../../domain/conflicts/account";
import { conflictRanges } from "../../domain/conflicts/candidates";
import type { RouteRef } from "../../domain/routes/conflicts";
import type { SplitTunnelAccountSettings } from "../../domain/split-tunnels/effective";
import { loadSplitTunnelSettings } from "../split-tunnels/account-settings";

/** The account's profiles as the checks see them, and its desired default virtual network. */
export interface AccountProfiles {
  profiles: ProfileSplitTunnelRef[];
  /** tunnelplane id of the desired default virtual network, or null. */
  defaultVirtualNetworkId: string | null;
}

/** The inputs of `findAccountConflicts` for one account. */
export interface AccountCheckInput extends AccountProfiles {
  /** Live routes in creation order. */
  routes: RouteRef[];
  /** What the account adds to every profile's list: its team domain, or null. */
  account: SplitTunnelAccountSettings;
  /** The account's reserved ranges (its initial resolved range among them). */
  reservedRanges: ReservedRange[];
}

/**
 * Loads the account's profiles (default first, then device profiles by precedence) and default
 * virtual network (3 queries, none of them over routes).
 */
export async function loadAccountProfiles(db: Db, accountId: string): Promise<AccountProfiles> {
  const [defaultVirtualNetworkId, defaultProfile, customProfiles] = await Promise.all([
    getDefaultVirtualNetworkId(db, accountId),
    getObject(db, accountId, "split_tunnel", "default"),
    listAllObjects(db, accountId, "device_profile"),
  ]);
  const profiles: ProfileSplitTunnelRef[] = [
    ...(defaultProfile === undefined
      ? []
      : [
          {
            kind: "split_tunnel" as const,
            id: defaultProfile.id,
            spec: defaultProfile.spec,
            virtualNetworkIds: null,
          },
        ]),
    ...[...customProfiles]
      .sort((a, b) => a.spec.precedence - b.spec.precedence)
      .map((p) => ({
        kind: "device_profile" as const,
        id: p.id,
        spec: p.spec.splitTunnel,
        virtualNetworkIds: p.spec.virtualNetworkIds,
      })),
  ];
  return { profiles, defaultVirtualNetworkId };
}

/** The account's live routes as the checks see them, in creation order. */
async function loadRouteRefs(db: Db, accountId: string): Promise<RouteRef[]> {
  return toRouteRefs(await listAllObjects(db, accountId, "tunnel_route"));
}

/** Stored routes as the checks see them, in the given order. */
export function toRouteRefs(routes: readonly StoredObject<"tunnel_route">[]): RouteRef[] {
  return routes.map((r) => ({
    id: r.id,
    network: r.spec.network,
    tunnelId: r.spec.tunnelId,
    virtualNetworkId: r.spec.virtualNetworkId,
  }));
}

/** Most range lookups the conflict list makes before it reads every route instead. */
const MAX_RANGE_LOOKUPS = 64;

/**
 * The inputs of `findAccountConflicts` for one account, but `routes` holds only the live routes the account's conflicts can
 * be about (`conflictRanges`): those nesting with another route and those nesting with one of
 * the ranges, read through the range index, so the cost follows the conflicts rather than the
 * routes. Every route is read when a profile has a hand-written Include list, or when more than
 * `MAX_RANGE_LOOKUPS` ranges would be looked up. `isFocused` says which.
 */
export async function loadConflictCheckInput(
  db: Db,
  accountId: string,
): Promise<AccountCheckInput & { isFocused: boolean }> {
  let isFocused = false;
  const input = await loadCheckInput(db, accountId, async (profiles, reservedRanges) => {
    const ranges = conflictRanges(profiles, reservedRanges);
    if (ranges === null || ranges.length > MAX_RANGE_LOOKUPS) {
      return loadRouteRefs(db, accountId);
    }
    isFocused = true;
    // First, as it gives range keys to any route stored without them.
    const nesting = await listNestingRoutes(db, accountId);
    const nested = await listRoutesNestingWith(db, accountId, ranges.map(canonicalKnownCidr));
    const byId = new Map([...nesting, ...nested].map((route) => [route.id, route]));
    return toRouteRefs(
      [...byId.values()].sort(
        (a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      ),
    );
  });
  return { ...input, isFocused };
}

async function loadCheckInput(
  db: Db,
  accountId: string,
  loadRoutes: (
    profiles: readonly ProfileSplitTunnelRef[],
    reservedRanges: readonly ReservedRange[],
  ) => Promise<RouteRef[]>,
): Promise<AccountCheckInput> {
  const [profiles, account] = await Promise.all([
    loadAccountProfiles(db, accountId),
    getAccount(db, accountId),
  ]);
  const reservedRanges = reservedRangesFor(
    account?.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4,
  );
  const [routes, settings] = await Promise.all([
    loadRoutes(profiles.profiles, reservedRanges),
    loadSplitTunnelSettings(db, accountId, account),
  ]);
  return { routes, ...profiles, account: settings, reservedRanges };
}
