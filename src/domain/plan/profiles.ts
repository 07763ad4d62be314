/** Planning for device profiles, their split tunnel lists, and the proxy settings. */
import type { DesiredState, ObservedState } from "../model";
import { describeSplitTunnelProblem } from "../split-tunnels/describe";
import { effectiveSplitTunnel, splitTunnelSettingsOf } from "../split-tunnels/effective";
import { observedDeviceProfile, profileSplitTunnels, renderDeviceProfile } from "./device-profiles";
import { diffFields } from "./diff";
import { summariseEntriesDiff } from "./list-change";
import { planMarked } from "./marked";
import { isDrift, liveOf, type Planner } from "./planner";
import { canonicalSplitTunnelEntries, observedSplitTunnel } from "./render";

/**
 * Plans the default profile's split tunnel: its effective list (computed from the routes and the
 * account's team domain when `auto`) against the observed one, compared as canonical sets;
 * problems become warnings.
 */
export function planSplitTunnels(out: Planner, desired: DesiredState, observed: ObservedState) {
  const routed = liveOf(desired, "tunnel_route").map((r) => r.spec.network);
  const account = splitTunnelSettingsOf(desired);
  for (const d of liveOf(desired, "split_tunnel")) {
    const effective = effectiveSplitTunnel(d.spec, routed, account);
    for (const problem of effective.problems) {
      out.warnings.push({
        code: problem.code,
        kind: "split_tunnel",
        key: d.id,
        message: describeSplitTunnelProblem(problem),
      });
    }
    const want = {
      profileId: d.id,
      mode: d.spec.mode,
      entries: canonicalSplitTunnelEntries(
        effective.entries.map((e) =>
          "address" in e
            ? { address: e.address, description: e.description }
            : { host: e.host, description: e.description },
        ),
      ),
    };
    const current = observed.splitTunnels.find((s) => s.profileId === d.id);
    const diff =
      current === undefined
        ? []
        : summariseEntriesDiff(diffFields(observedSplitTunnel(current), want));
    if (current === undefined || diff.length > 0) {
      const reason =
        current === undefined ? "device profile not found" : "differs from the desired state";
      out.actions.push({
        op: "update",
        kind: "split_tunnel",
        key: d.id,
        cloudflareId: d.id,
        reason,
        diff,
        desired: want,
        isDrift: isDrift(d),
      });
    }
  }
}

/**
 * Custom device profiles, matched by the marker in their description. Each profile's list follows
 * the routes of the virtual networks it names; its split tunnel problems become warnings.
 */
export function planDeviceProfiles(
  out: Planner,
  desired: DesiredState,
  observed: ObservedState,
  defaultVirtualNetworkKey: string | null,
): Map<string, string> {
  const profiles = liveOf(desired, "device_profile");
  const routes = liveOf(desired, "tunnel_route").map((r) => r.spec);
  const effective = profileSplitTunnels(
    profiles,
    routes,
    defaultVirtualNetworkKey,
    splitTunnelSettingsOf(desired),
  );
  for (const [key, list] of effective) {
    for (const problem of list.problems) {
      out.warnings.push({
        code: problem.code,
        kind: "device_profile",
        key,
        message: describeSplitTunnelProblem(problem),
      });
    }
  }
  return planMarked(out, "device_profile", profiles, observed.deviceProfiles, {
    cloudflareId: (o) => o.cloudflareId,
    markedField: (o) => o.description,
    label: (o) => o.name,
    render: (d) => renderDeviceProfile(d, effective.get(d.id) ?? { entries: [] }),
    toRendered: observedDeviceProfile,
    summarise: summariseEntriesDiff,
  });
}

/** Plans the TCP/UDP/ICMP proxy toggles; the action's diff names the toggles to write. */
export function planProxySettings(out: Planner, desired: DesiredState, observed: ObservedState) {
  for (const d of liveOf(desired, "proxy_settings")) {
    const diff = diffFields(observed.proxySettings, d.spec);
    if (diff.length > 0) {
      out.actions.push({
        op: "update",
        kind: "proxy_settings",
        key: d.id,
        cloudflareId: d.id,
        reason: "differs from the desired state",
        diff,
        desired: d.spec,
        isDrift: isDrift(d),
      });
    }
  }
}
