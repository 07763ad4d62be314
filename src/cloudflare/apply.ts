/** Runs one planned action against Cloudflare through the adapter of its kind. */
import type { Kind } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { ApplyContext } from "./apply-context";
import { applyDeviceProfile } from "./device-profiles.adapter";
import { applyEnrollment } from "./enrollment.adapter";
import { applyNetworkPolicy } from "./network-policies.adapter";
import { applyProxySettings } from "./proxy-settings.adapter";
import { applySplitTunnel } from "./split-tunnels.adapter";
import { applyTunnelRoute } from "./tunnel-routes.adapter";
import { applyTunnel } from "./tunnels.adapter";
import { applyVirtualNetwork } from "./virtual-networks.adapter";

/**
 * Applies `action`.
 * @returns the Cloudflare id of the object created, changed or deleted.
 * @throws whatever the SDK throws; callers classify it with toUpstreamError.
 */
export function applyAction(ctx: ApplyContext, action: Action): Promise<string> {
  const kind: Kind = action.kind;
  switch (kind) {
    case "virtual_network":
      return applyVirtualNetwork(ctx, action as Action<"virtual_network">);
    case "tunnel":
      return applyTunnel(ctx, action as Action<"tunnel">);
    case "tunnel_route":
      return applyTunnelRoute(ctx, action as Action<"tunnel_route">);
    case "split_tunnel":
      return applySplitTunnel(ctx, action as Action<"split_tunnel">);
    case "device_profile":
      return applyDeviceProfile(ctx, action as Action<"device_profile">);
    case "proxy_settings":
      return applyProxySettings(ctx, action as Action<"proxy_settings">);
    case "network_policy":
      return applyNetworkPolicy(ctx, action as Action<"network_policy">);
    case "enrollment_rule":
      return applyEnrollment(ctx, action as Action<"enrollment_rule">);
    case "private_app":
    case "assertion":
      // Never planned: private apps are applied as their derived network policies.
      throw new Error(`${kind} has no Cloudflare object of its own`);
  }
}
