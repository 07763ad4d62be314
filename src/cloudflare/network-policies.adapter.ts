/** Gateway network (l4) policies (`gateway/rules`): list all rules; apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedNetworkPolicy } from "../domain/model";
import type { RenderedNetworkPolicy } from "../domain/plan/actions";
import type { KindAdapter } from "./adapter";
import type { ApplyContext } from "./apply-context";

/**
 * Lists every Gateway rule of the account (a single-page list: one request), the read-only rules
 * shared from a parent account included and flagged.
 */
async function listNetworkPolicies(
  client: Cloudflare,
  accountId: string,
): Promise<ObservedNetworkPolicy[]> {
  const page = await client.zeroTrust.gateway.rules.list({ account_id: accountId });
  return page.result.flatMap((r) =>
    r.id === undefined
      ? []
      : [
          {
            cloudflareId: r.id,
            name: r.name,
            description: r.description ?? "",
            action: r.action,
            enabled: r.enabled ?? false,
            precedence: r.precedence ?? 0,
            filters: r.filters ?? [],
            traffic: r.traffic ?? "",
            identity: r.identity ?? "",
            devicePosture: r.device_posture ?? "",
            ...(r.read_only === true
              ? { readOnly: true, sourceAccount: r.source_account ?? "" }
              : {}),
          },
        ],
  );
}

/** The body of a create or update: PUT replaces the whole rule, so every field is sent. */
function ruleBody(ctx: ApplyContext, d: RenderedNetworkPolicy) {
  return {
    account_id: ctx.accountId,
    name: d.name,
    description: d.description,
    action: d.action as "allow" | "block",
    enabled: d.enabled,
    precedence: d.precedence,
    filters: ["l4" as const],
    traffic: d.traffic,
    identity: d.identity,
    device_posture: d.devicePosture,
  };
}

/** Gateway network policies: one list call, one request per write. */
export const networkPolicyAdapter: KindAdapter<"network_policy"> = {
  kind: "network_policy",
  observe: async (client, accountId) => ({
    networkPolicies: await listNetworkPolicies(client, accountId),
  }),
  async create(ctx, action) {
    const created = await ctx.client.zeroTrust.gateway.rules.create(ruleBody(ctx, action.desired));
    return created.id ?? "";
  },
  async update(ctx, action) {
    await ctx.client.zeroTrust.gateway.rules.update(
      action.cloudflareId,
      ruleBody(ctx, action.desired),
    );
    return action.cloudflareId;
  },
  async delete(ctx, action) {
    await ctx.client.zeroTrust.gateway.rules.delete(action.cloudflareId, {
      account_id: ctx.accountId,
    });
    return action.cloudflareId;
  },
};
