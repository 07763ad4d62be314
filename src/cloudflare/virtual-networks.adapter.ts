/** Virtual networks (`teamnet/virtual_networks`): list live ones; apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedVirtualNetwork } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";

/** Lists the account's live virtual networks (a single-page list: one request). */
export async function listVirtualNetworks(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedVirtualNetwork[]> {
  const page = await client.zeroTrust.networks.virtualNetworks.list({
    account_id: accountId,
    is_deleted: false,
  });
  return page.result.map((v) => ({
    cloudflareId: v.id,
    name: v.name,
    comment: v.comment ?? "",
    isDefault: v.is_default_network,
  }));
}

/** Applies one virtual network action; returns the Cloudflare id of the object. */
export async function applyVirtualNetwork(
  ctx: ApplyContext,
  action: Action<"virtual_network">,
): Promise<string> {
  const api = ctx.client.zeroTrust.networks.virtualNetworks;
  const account_id = ctx.accountId;
  switch (action.op) {
    case "create": {
      const { name, comment, isDefault } = action.desired;
      const created = await api.create({
        account_id,
        name,
        comment,
        is_default_network: isDefault,
      });
      return created.id;
    }
    case "update": {
      const { name, comment, isDefault } = action.desired;
      await api.edit(action.cloudflareId, {
        account_id,
        name,
        comment,
        is_default_network: isDefault,
      });
      return action.cloudflareId;
    }
    case "delete":
      await api.delete(action.cloudflareId, { account_id });
      return action.cloudflareId;
  }
}
