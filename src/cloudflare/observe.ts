/** Observes one account: every managed kind through its list endpoint, never one GET per object. */
import type Cloudflare from "cloudflare";
import type { ObservedState } from "../domain/model";
import { listNetworkPolicies } from "./network-policies.adapter";
import { getProxySettings } from "./proxy-settings.adapter";
import { listSplitTunnels } from "./split-tunnels.adapter";
import { listTunnelRoutes } from "./tunnel-routes.adapter";
import { listTunnels } from "./tunnels.adapter";
import { listVirtualNetworks } from "./virtual-networks.adapter";

/**
 * Reads the account's state. Costs 7 requests plus one per extra page of tunnels or routes
 * (the SDK asks for one page past the end of each paged list).
 * @throws whatever the SDK throws; callers classify it with toUpstreamError.
 */
export async function observeAccount(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedState> {
  const [virtualNetworks, tunnels, tunnelRoutes, splitTunnels, proxySettings, networkPolicies] =
    await Promise.all([
      listVirtualNetworks(client, accountId),
      listTunnels(client, accountId),
      listTunnelRoutes(client, accountId),
      listSplitTunnels(client, accountId),
      getProxySettings(client, accountId),
      listNetworkPolicies(client, accountId),
    ]);
  return { virtualNetworks, tunnels, tunnelRoutes, splitTunnels, proxySettings, networkPolicies };
}
