/**
 * Reads what the account-wide checks need from the desired state: routes, the desired default
 * virtual network, every profile's split tunnel (the default profile first, then custom
 * profiles by ascending precedence) and the account's team domain.
 */

import { getAccount } from "../../db/accounts.repo";
import type { Db } from "../../db/client";
import { getObject, listAllObjects } from "../../db/desired-objects.repo";
import {
  DEFAULT_INITIAL_RESOLVED_IPV4,
  type ReservedRange,
  reservedRangesFor,
} from "../../domain/cidr/reserved";
import type { ProfileSplitTunnelRef } from "../../domain/conflicts/account";
import type { RouteRef } from "../../domain/routes/conflicts";
import type { SplitTunnelAccountSettings } from "../../domain/split-tunnels/effective";
import { loadSplitTunnelSettings } from "../split-tunnels/account-settings";

/** The inputs of `findAccountConflicts` for one account. */
export interface AccountCheckInput {
  /** Live routes in creation order. */
  routes: RouteRef[];
  profiles: ProfileSplitTunnelRef[];
  /** tunnelplane id of the desired default virtual network, or null. */
  defaultVirtualNetworkId: string | null;
  /** What the account adds to every profile's list: its team domain, or null. */
  account: SplitTunnelAccountSettings;
  /** The account's reserved ranges (its initial resolved range among them). */
  reservedRanges: ReservedRange[];
}

/** Loads the account's routes, default virtual network, profiles and team domain (5 queries). */
export async function loadAccountCheckInput(db: Db, accountId: string): Promise<AccountCheckInput> {
  const [routes, vnets, defaultProfile, customProfiles, account] = await Promise.all([
    listAllObjects(db, accountId, "tunnel_route"),
    listAllObjects(db, accountId, "virtual_network"),
    getObject(db, accountId, "split_tunnel", "default"),
    listAllObjects(db, accountId, "device_profile"),
    getAccount(db, accountId),
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
  return {
    routes: routes.map((r) => ({
      id: r.id,
      network: r.spec.network,
      tunnelId: r.spec.tunnelId,
      virtualNetworkId: r.spec.virtualNetworkId,
    })),
    profiles,
    defaultVirtualNetworkId: vnets.find((v) => v.spec.isDefault)?.id ?? null,
    account: await loadSplitTunnelSettings(db, accountId, account),
    reservedRanges: reservedRangesFor(
      account?.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4,
    ),
  };
}
