/** Whether private apps' destinations can be reached: routed, and sent through WARP. */
import type { Db } from "../../db/client";
import { getObject, listAllObjects } from "../../db/desired-objects.repo";
import {
  findPrivateAppProblems,
  type PrivateAppRef,
  type PrivateAppUnreachable,
} from "../../domain/conflicts/private-apps";
import { WARP_DEFAULT_EXCLUDES } from "../../domain/split-tunnels/defaults";
import { effectiveSplitTunnel } from "../../domain/split-tunnels/effective";
import { loadSplitTunnelSettings } from "../split-tunnels/account-settings";

/**
 * The unreachable destinations of `apps` against the account's routes (every virtual network)
 * and the default profile's effective split tunnel (WARP's default Exclude list when tunnelplane
 * does not manage it). Three queries.
 */
export async function privateAppProblems(
  db: Db,
  accountId: string,
  apps: readonly PrivateAppRef[],
): Promise<PrivateAppUnreachable[]> {
  if (apps.length === 0) {
    return [];
  }
  const [routes, splitTunnel, settings] = await Promise.all([
    listAllObjects(db, accountId, "tunnel_route"),
    getObject(db, accountId, "split_tunnel", "default"),
    loadSplitTunnelSettings(db, accountId),
  ]);
  const networks = routes.map((r) => r.spec.network);
  const list =
    splitTunnel === undefined
      ? { mode: "exclude" as const, entries: WARP_DEFAULT_EXCLUDES }
      : {
          mode: splitTunnel.spec.mode,
          entries: effectiveSplitTunnel(splitTunnel.spec, networks, settings).entries,
        };
  return findPrivateAppProblems(apps, networks, list);
}
