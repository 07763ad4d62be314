/** Tunnel routes (`teamnet/routes`): list live ones (all pages); apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedTunnelRoute } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";
import { MAX_PER_PAGE } from "./tunnels.adapter";

/** Lists the account's live tunnel routes, every page. */
export async function listTunnelRoutes(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedTunnelRoute[]> {
  const routes: ObservedTunnelRoute[] = [];
  for await (const r of client.zeroTrust.networks.routes.list({
    account_id: accountId,
    is_deleted: false,
    per_page: MAX_PER_PAGE,
  })) {
    if (r.id !== undefined && r.network !== undefined) {
      routes.push({
        cloudflareId: r.id,
        network: r.network,
        tunnelCloudflareId: r.tunnel_id ?? "",
        virtualNetworkCloudflareId: r.virtual_network_id ?? "",
        comment: r.comment ?? "",
      });
    }
  }
  return routes;
}

/** Applies one route action; returns the Cloudflare id. A null vnet means the account default. */
export async function applyTunnelRoute(
  ctx: ApplyContext,
  action: Action<"tunnel_route">,
): Promise<string> {
  const api = ctx.client.zeroTrust.networks.routes;
  const account_id = ctx.accountId;
  if (action.op === "delete") {
    await api.delete(action.cloudflareId, { account_id });
    return action.cloudflareId;
  }
  const { network, tunnelKey, virtualNetworkKey, comment } = action.desired;
  const body = {
    account_id,
    network,
    comment,
    tunnel_id: ctx.resolve("tunnel", tunnelKey),
    virtual_network_id:
      virtualNetworkKey === null
        ? ctx.defaultVirtualNetworkId
        : ctx.resolve("virtual_network", virtualNetworkKey),
  };
  if (action.op === "create") {
    const created = await api.create(body);
    return created.id ?? "";
  }
  await api.edit(action.cloudflareId, body);
  return action.cloudflareId;
}
