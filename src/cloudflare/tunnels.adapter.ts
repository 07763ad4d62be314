/** cloudflared tunnels (`cfd_tunnel`): list live ones (all pages); apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedTunnel } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";

/** Largest page the tunnel and route lists accept. */
export const MAX_PER_PAGE = 1000;

/** Lists the account's live cloudflared tunnels, every page. */
export async function listTunnels(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedTunnel[]> {
  const tunnels: ObservedTunnel[] = [];
  for await (const t of client.zeroTrust.tunnels.cloudflared.list({
    account_id: accountId,
    is_deleted: false,
    per_page: MAX_PER_PAGE,
  })) {
    if (t.id !== undefined && t.name !== undefined) {
      tunnels.push({
        cloudflareId: t.id,
        name: t.name,
        status: t.status ?? "inactive",
        createdAtMs: t.created_at === undefined ? 0 : Date.parse(t.created_at),
      });
    }
  }
  return tunnels;
}

/** Applies one tunnel action; returns the Cloudflare id. Tunnels are remotely managed. */
export async function applyTunnel(ctx: ApplyContext, action: Action<"tunnel">): Promise<string> {
  const api = ctx.client.zeroTrust.tunnels.cloudflared;
  const account_id = ctx.accountId;
  switch (action.op) {
    case "create": {
      const created = await api.create({
        account_id,
        name: action.desired.name,
        config_src: "cloudflare",
      });
      return created.id ?? "";
    }
    case "update":
      await api.edit(action.cloudflareId, { account_id, name: action.desired.name });
      return action.cloudflareId;
    case "delete":
      await api.delete(action.cloudflareId, { account_id });
      return action.cloudflareId;
  }
}

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
