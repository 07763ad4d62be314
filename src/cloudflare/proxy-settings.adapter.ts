/**
 * Proxy toggles live in two places: TCP and UDP in device settings, ICMP in connectivity settings.
 * Both endpoints merge a PATCH, so only the side that differs is written.
 */
import type Cloudflare from "cloudflare";
import type { ProxySettingsSpec } from "../domain/model";
import type { FieldDiff } from "../domain/plan/actions";
import type { KindAdapter } from "./adapter";
import type { ApplyContext } from "./apply-context";

/** Reads the three proxy toggles (two requests). */
async function getProxySettings(client: Cloudflare, accountId: string): Promise<ProxySettingsSpec> {
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

/** Writes the toggles named in the action's diff (one request per side that differs). */
async function writeToggles(
  ctx: ApplyContext,
  action: { key: string; diff: FieldDiff[]; desired: ProxySettingsSpec },
): Promise<string> {
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

/** The proxy toggles: two singleton reads, a PATCH per side that differs. */
export const proxySettingsAdapter: KindAdapter<"proxy_settings"> = {
  kind: "proxy_settings",
  observe: async (client, accountId) => ({
    proxySettings: await getProxySettings(client, accountId),
  }),
  create: writeToggles,
  update: writeToggles,
  delete: async () => {
    throw new Error("proxy settings are never deleted, only changed");
  },
};
