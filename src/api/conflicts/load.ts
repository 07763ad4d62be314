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
} from "../../db/desired-objects.repo";
import {
  DEFAULT_INITIAL_RESOLVED_IPV4,
  type ReservedRange,
  reservedRangesFor,
} from "../../domain/cidr/reserved";
import type { ProfileSplitTunnelRef } from "../../domain/conflicts/account";
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

/** Loads the account's routes, profiles, default virtual network and team domain (5 queries). */
export async function loadAccountCheckInput(db: Db, accountId: string): Promise<AccountCheckInput> {
  const [routes, profiles, account] = await Promise.all([
    listAllObjects(db, accountId, "tunnel_route"),
    loadAccountProfiles(db, accountId),
    getAccount(db, accountId),
  ]);
  return {
    routes: routes.map((r) => ({
      id: r.id,
      network: r.spec.network,
      tunnelId: r.spec.tunnelId,
      virtualNetworkId: r.spec.virtualNetworkId,
    })),
    ...profiles,
    account: await loadSplitTunnelSettings(db, accountId, account),
    reservedRanges: reservedRangesFor(
      account?.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4,
    ),
  };
}
