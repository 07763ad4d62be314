/** Tunnel routes (`teamnet/routes`): list live ones (all pages); apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedTunnelRoute } from "../domain/model";
import type { RenderedTunnelRoute } from "../domain/plan/actions";
import type { KindAdapter } from "./adapter";
import type { ApplyContext } from "./apply-context";
import { isDeleted, listAllPages } from "./paging";
import { MAX_PER_PAGE } from "./tunnels.adapter";

/** Lists the account's live tunnel routes, every page (ceil(n / MAX_PER_PAGE) calls). */
async function listTunnelRoutes(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedTunnelRoute[]> {
  const items = await listAllPages(
    "teamnet/routes",
    MAX_PER_PAGE,
    (page) =>
      client.zeroTrust.networks.routes.list({
        account_id: accountId,
        is_deleted: false,
        per_page: MAX_PER_PAGE,
        page,
      }),
    (r) => r.id,
  );
  return items.flatMap((r) =>
    // A deleted route may be listed despite `is_deleted=false`: it never counts as live.
    r.id === undefined || r.network === undefined || isDeleted(r)
      ? []
      : [
          {
            cloudflareId: r.id,
            network: r.network,
            tunnelCloudflareId: r.tunnel_id ?? "",
            virtualNetworkCloudflareId: r.virtual_network_id ?? "",
            comment: r.comment ?? "",
          },
        ],
  );
}

/** The body of a create or edit; a null virtual network means the account's default. */
function routeBody(ctx: ApplyContext, desired: RenderedTunnelRoute) {
  const { network, tunnelKey, virtualNetworkKey, comment } = desired;
  return {
    account_id: ctx.accountId,
    network,
    comment,
    tunnel_id: ctx.resolve("tunnel", tunnelKey),
    virtual_network_id:
      virtualNetworkKey === null
        ? ctx.defaultVirtualNetworkId
        : ctx.resolve("virtual_network", virtualNetworkKey),
  };
}

/** Tunnel routes: listed by pages of MAX_PER_PAGE; one request per write. */
export const tunnelRouteAdapter: KindAdapter<"tunnel_route"> = {
  kind: "tunnel_route",
  observe: async (client, accountId) => ({
    tunnelRoutes: await listTunnelRoutes(client, accountId),
  }),
  async create(ctx, action) {
    const created = await ctx.client.zeroTrust.networks.routes.create(
      routeBody(ctx, action.desired),
    );
    return created.id ?? "";
  },
  async update(ctx, action) {
    await ctx.client.zeroTrust.networks.routes.edit(
      action.cloudflareId,
      routeBody(ctx, action.desired),
    );
    return action.cloudflareId;
  },
  async delete(ctx, action) {
    await ctx.client.zeroTrust.networks.routes.delete(action.cloudflareId, {
      account_id: ctx.accountId,
    });
    return action.cloudflareId;
  },
};
