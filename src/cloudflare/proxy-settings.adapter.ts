/**
 * Proxy toggles live in two places: TCP and UDP in device settings, ICMP in connectivity settings.
 * Both endpoints merge a PATCH, so only the side that differs is written.
 */
import type Cloudflare from "cloudflare";
import type { ProxySettingsSpec } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";

/** Reads the three proxy toggles (two requests). */
export async function getProxySettings(
  client: Cloudflare,
  accountId: string,
): Promise<ProxySettingsSpec> {
  const [device, connectivity] = await Promise.all([
    client.zeroTrust.devices.settings.get({ account_id: accountId }),
    client.zeroTrust.connectivitySettings.get({ account_id: accountId }),
  ]);
  return {
    tcp: device?.gateway_proxy_enabled ?? false,
    udp: device?.gateway_udp_proxy_enabled ?? false,
    icmp: connectivity.icmp_proxy_enabled ?? false,
  };
}

/** Writes the toggles named in the action's diff. */
export async function applyProxySettings(
  ctx: ApplyContext,
  action: Action<"proxy_settings">,
): Promise<string> {
  if (action.op === "delete") {
    throw new Error("proxy settings are never deleted, only changed");
  }
  const changed = new Set(action.diff.map((d) => d.field));
  const { tcp, udp, icmp } = action.desired;
  const account_id = ctx.accountId;
  if (changed.has("tcp") || changed.has("udp")) {
    await ctx.client.zeroTrust.devices.settings.edit({
      account_id,
      gateway_proxy_enabled: tcp,
      gateway_udp_proxy_enabled: udp,
    });
  }
  if (changed.has("icmp")) {
    await ctx.client.zeroTrust.connectivitySettings.edit({ account_id, icmp_proxy_enabled: icmp });
  }
  return action.key;
}
