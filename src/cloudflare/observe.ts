/** Observes one account: every managed kind through its list endpoint, never one GET per object. */
import type Cloudflare from "cloudflare";
import type { ObservedState } from "../domain/model";
import { listDeviceProfiles } from "./device-profiles.adapter";
import { listNetworkPolicies } from "./network-policies.adapter";
import { getProxySettings } from "./proxy-settings.adapter";
import { listSplitTunnels } from "./split-tunnels.adapter";
import { listTunnelRoutes } from "./tunnel-routes.adapter";
import { listTunnels } from "./tunnels.adapter";
import { listVirtualNetworks } from "./virtual-networks.adapter";

/**
 * Reads the account's state. Costs 7 requests plus one per extra page of tunnels or routes
 * (the SDK asks for one page past the end of each paged list). The device profile list carries
 * the default profile's split tunnel too when Cloudflare lists the default profile; otherwise
 * one more request reads it.
 * @throws whatever the SDK throws; callers classify it with toUpstreamError.
 */
export async function observeAccount(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedState> {
  const [virtualNetworks, tunnels, tunnelRoutes, profiles, proxySettings, networkPolicies] =
    await Promise.all([
      listVirtualNetworks(client, accountId),
      listTunnels(client, accountId),
      listTunnelRoutes(client, accountId),
      listDeviceProfiles(client, accountId),
      getProxySettings(client, accountId),
      listNetworkPolicies(client, accountId),
    ]);
  const splitTunnels =
    profiles.defaultSplitTunnel === undefined
      ? await listSplitTunnels(client, accountId)
      : [profiles.defaultSplitTunnel];
  return {
    virtualNetworks,
    tunnels,
    tunnelRoutes,
    splitTunnels,
    deviceProfiles: profiles.custom,
    proxySettings,
    networkPolicies,
  };
}
