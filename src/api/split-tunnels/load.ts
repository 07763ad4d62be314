/** A profile's split tunnel as the reads compute it: the stored object, its spec and its list. */

import type { AccountRecord } from "../../db/accounts.repo";
import type { Db } from "../../db/client";
import { getObject, listAllObjects, type StoredObject } from "../../db/desired-objects.repo";
import type { SplitTunnelProfileSpec } from "../../domain/model";
import {
  type EffectiveSplitTunnel,
  effectiveSplitTunnel,
} from "../../domain/split-tunnels/effective";
import { routedNetworksFor } from "../../domain/split-tunnels/profile-routes";
import { ProblemError } from "../problem";
import { loadSplitTunnelSettings } from "./account-settings";

/** The profile's stored object (its envelope and version), split tunnel spec and list. */
export interface LoadedSplitTunnel {
  object: StoredObject<"split_tunnel"> | StoredObject<"device_profile">;
  spec: SplitTunnelProfileSpec;
  effective: EffectiveSplitTunnel;
}

/**
 * The split tunnel of `profile`: `default` for the default profile (the routes of every virtual
 * network), else a device profile id (the routes of the virtual networks it follows).
 * @throws ProblemError not-found when the profile, or the default profile's split tunnel, is missing
 */
export async function loadSplitTunnel(
  db: Db,
  account: AccountRecord,
  profile: string,
): Promise<LoadedSplitTunnel> {
  const accountId = account.id;
  const settings = await loadSplitTunnelSettings(db, accountId, account);
  if (profile === "default") {
    const [object, routes] = await Promise.all([
      getObject(db, accountId, "split_tunnel", "default"),
      listAllObjects(db, accountId, "tunnel_route"),
    ]);
    if (object === undefined) {
      throw new ProblemError(
        "not-found",
        `No split tunnels set for account ${accountId}; PUT one.`,
      );
    }
    const networks = routes.map((r) => r.spec.network);
    const effective = effectiveSplitTunnel(object.spec, networks, settings);
    return { object, spec: object.spec, effective };
  }
  const object = await getObject(db, accountId, "device_profile", profile);
  if (object === undefined) {
    throw new ProblemError("not-found", `No device profile ${profile} in account ${accountId}.`);
  }
  const [routes, vnets] = await Promise.all([
    listAllObjects(db, accountId, "tunnel_route"),
    listAllObjects(db, accountId, "virtual_network"),
  ]);
  const networks = routedNetworksFor(
    object.spec.virtualNetworkIds,
    routes.map((r) => r.spec),
    vnets.find((v) => v.spec.isDefault)?.id ?? null,
  );
  const spec = object.spec.splitTunnel;
  return { object, spec, effective: effectiveSplitTunnel(spec, networks, settings) };
}
