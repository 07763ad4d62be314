/** Virtual networks (`teamnet/virtual_networks`): list live ones; apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedVirtualNetwork } from "../domain/model";
import type { KindAdapter } from "./adapter";
import { isDeleted } from "./paging";

/** Lists the account's live virtual networks (a single-page list: one request). */
async function listVirtualNetworks(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedVirtualNetwork[]> {
  const page = await client.zeroTrust.networks.virtualNetworks.list({
    account_id: accountId,
    is_deleted: false,
  });
  // A deleted network may be listed next to a live one of the same name: only the live counts.
  return page.result
    .filter((v) => !isDeleted(v))
    .map((v) => ({
      cloudflareId: v.id,
      name: v.name,
      comment: v.comment ?? "",
      isDefault: v.is_default_network,
    }));
}

/** Virtual networks: one list call, one request per write. */
export const virtualNetworkAdapter: KindAdapter<"virtual_network"> = {
  kind: "virtual_network",
  observe: async (client, accountId) => ({
    virtualNetworks: await listVirtualNetworks(client, accountId),
  }),
  async create(ctx, action) {
    const { name, comment, isDefault } = action.desired;
    const created = await ctx.client.zeroTrust.networks.virtualNetworks.create({
      account_id: ctx.accountId,
      name,
      comment,
      is_default_network: isDefault,
    });
    return created.id;
  },
  async update(ctx, action) {
    const { name, comment, isDefault } = action.desired;
    await ctx.client.zeroTrust.networks.virtualNetworks.edit(action.cloudflareId, {
      account_id: ctx.accountId,
      name,
      comment,
      is_default_network: isDefault,
    });
    return action.cloudflareId;
  },
  async delete(ctx, action) {
    await ctx.client.zeroTrust.networks.virtualNetworks.delete(action.cloudflareId, {
      account_id: ctx.accountId,
    });
    return action.cloudflareId;
  },
};
