/** Gateway network (l4) policies (`gateway/rules`): list all rules; apply actions. */
import type Cloudflare from "cloudflare";
import type { ObservedNetworkPolicy } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";

/** Lists every Gateway rule of the account (a single-page list: one request). */
export async function listNetworkPolicies(
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
          },
        ],
  );
}

/** Applies one policy action; PUT replaces the whole rule, so every field is sent. */
export async function applyNetworkPolicy(
  ctx: ApplyContext,
  action: Action<"network_policy">,
): Promise<string> {
  const api = ctx.client.zeroTrust.gateway.rules;
  const account_id = ctx.accountId;
  if (action.op === "delete") {
    await api.delete(action.cloudflareId, { account_id });
    return action.cloudflareId;
  }
  const d = action.desired;
  const body = {
    account_id,
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
  if (action.op === "create") {
    const created = await api.create(body);
    return created.id ?? "";
  }
  await api.update(action.cloudflareId, body);
  return action.cloudflareId;
}
