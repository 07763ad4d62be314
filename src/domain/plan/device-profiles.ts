/**
 * Custom device profiles for the planner: each profile's effective split tunnel (computed once
 * per run from the routes of the virtual networks it follows), its rendered Cloudflare shape and
 * the observed profile in the same shape. Both sides normalise `match` and order entries the same
 * way, so a converged profile compares equal.
 */
import type { DesiredObject, ObservedDeviceProfile } from "../model";
import { normalizeExpression } from "../policies/render";
import {
  type EffectiveSplitTunnel,
  effectiveSplitTunnel,
  type SplitTunnelAccountSettings,
} from "../split-tunnels/effective";
import { routedNetworksFor, type SelectableRoute } from "../split-tunnels/profile-routes";
import type { RenderedDeviceProfile } from "./actions";
import { withMarker } from "./ownership";
import { canonicalSplitTunnelEntries } from "./render";

/**
 * The effective split tunnel of every profile, by profile id. `defaultVirtualNetworkId` is the
 * desired default virtual network's id, or null; `account` carries the team domain.
 */
export function profileSplitTunnels(
  profiles: readonly DesiredObject<"device_profile">[],
  routes: readonly SelectableRoute[],
  defaultVirtualNetworkId: string | null,
  account: SplitTunnelAccountSettings,
): Map<string, EffectiveSplitTunnel> {
  return new Map(
    profiles.map((profile) => [
      profile.id,
      effectiveSplitTunnel(
        profile.spec.splitTunnel,
        routedNetworksFor(profile.spec.virtualNetworkIds, routes, defaultVirtualNetworkId),
        account,
      ),
    ]),
  );
}

/** The profile tunnelplane sends, with the effective entries from `profileSplitTunnels`. */
export function renderDeviceProfile(
  object: DesiredObject<"device_profile">,
  effective: Pick<EffectiveSplitTunnel, "entries"> & Partial<EffectiveSplitTunnel>,
): RenderedDeviceProfile {
  const { name, description, match, precedence, enabled, splitTunnel } = object.spec;
  return {
    name,
    description: withMarker(description, object.id),
    match: normalizeExpression(match),
    precedence,
    enabled,
    mode: splitTunnel.mode,
    entries: canonicalSplitTunnelEntries(
      effective.entries.map((e) =>
        "address" in e
          ? { address: e.address, description: e.description }
          : { host: e.host, description: e.description },
      ),
    ),
  };
}

/** An observed custom profile in the rendered shape. */
export function observedDeviceProfile(observed: ObservedDeviceProfile): RenderedDeviceProfile {
  return {
    name: observed.name,
    description: observed.description,
    match: normalizeExpression(observed.match),
    precedence: observed.precedence,
    enabled: observed.enabled,
    mode: observed.mode,
    entries: canonicalSplitTunnelEntries(observed.entries),
  };
}
