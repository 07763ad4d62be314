/** cloudflared tunnels (`cfd_tunnel`): list live ones (all pages); apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedTunnel } from "../domain/model";
import type { KindAdapter } from "./adapter";
import { isDeleted, listAllPages } from "./paging";

/** Largest page the tunnel and route lists accept. */
export const MAX_PER_PAGE = 1000;

/** Lists the account's live cloudflared tunnels, every page (ceil(n / MAX_PER_PAGE) calls). */
async function listTunnels(client: Cloudflare, accountId: string): Promise<ObservedTunnel[]> {
  const items = await listAllPages(
    "cfd_tunnel",
    MAX_PER_PAGE,
    (page) =>
      client.zeroTrust.tunnels.cloudflared.list({
        account_id: accountId,
        is_deleted: false,
        per_page: MAX_PER_PAGE,
        page,
      }),
    (t) => t.id,
  );
  return items.flatMap((t) =>
    // A deleted tunnel may be listed next to a live one of the same name: only the live counts.
    t.id === undefined || t.name === undefined || isDeleted(t)
      ? []
      : [
          {
            cloudflareId: t.id,
            name: t.name,
            status: t.status ?? "inactive",
            createdAtMs: t.created_at === undefined ? 0 : Date.parse(t.created_at),
          },
        ],
  );
}

/** Tunnels: listed by pages of MAX_PER_PAGE; remotely managed (`config_src: cloudflare`). */
export const tunnelAdapter: KindAdapter<"tunnel"> = {
  kind: "tunnel",
  observe: async (client, accountId) => ({ tunnels: await listTunnels(client, accountId) }),
  async create(ctx, action) {
    const created = await ctx.client.zeroTrust.tunnels.cloudflared.create({
      account_id: ctx.accountId,
      name: action.desired.name,
      config_src: "cloudflare",
    });
    return created.id ?? "";
  },
  async update(ctx, action) {
    await ctx.client.zeroTrust.tunnels.cloudflared.edit(action.cloudflareId, {
      account_id: ctx.accountId,
      name: action.desired.name,
    });
    return action.cloudflareId;
  },
  async delete(ctx, action) {
    await ctx.client.zeroTrust.tunnels.cloudflared.delete(action.cloudflareId, {
      account_id: ctx.accountId,
    });
    return action.cloudflareId;
  },
};

/** The tunnel's run token (a bare string result: base64 JSON of account, tunnel id, secret). */
export async function getTunnelToken(
  client: Cloudflare,
  accountId: string,
  tunnelCloudflareId: string,
): Promise<string> {
  return client.zeroTrust.tunnels.cloudflared.token.get(tunnelCloudflareId, {
    account_id: accountId,
  });
}
