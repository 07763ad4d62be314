/**
 * The natural key each kind stores (the unique index that refuses duplicates), taken from the
 * kind's collection definition so an applied object is stored exactly as its own endpoint would.
 */
import type { DesiredObject, Kind, SpecByKind } from "../../domain/model";
import { assertions } from "../assertions";
import { deviceProfiles } from "../device-profiles";
import { enrollmentRules } from "../enrollment-rules";
import { hostnameRoutes } from "../hostname-routes";
import { networkPolicies } from "../policies";
import { privateApps } from "../private-apps";
import { tunnelRoutes } from "../tunnel-routes";
import { tunnels } from "../tunnels";
import { virtualNetworks } from "../virtual-networks";

const NATURAL_KEY: { [K in Kind]: (spec: SpecByKind[K]) => string | null } = {
  virtual_network: virtualNetworks.naturalKey,
  tunnel: tunnels.naturalKey,
  tunnel_route: tunnelRoutes.naturalKey,
  hostname_route: hostnameRoutes.naturalKey,
  device_profile: deviceProfiles.naturalKey,
  network_policy: networkPolicies.naturalKey,
  private_app: privateApps.naturalKey,
  enrollment_rule: enrollmentRules.naturalKey,
  assertion: assertions.naturalKey,
  // Singletons have a fixed id and no natural key (see desired/singleton.ts).
  split_tunnel: () => null,
  proxy_settings: () => null,
};

/** The natural key to store for `object`. */
export function naturalKeyOf(object: DesiredObject): string | null {
  return (NATURAL_KEY[object.kind] as (spec: unknown) => string | null)(object.spec);
}
