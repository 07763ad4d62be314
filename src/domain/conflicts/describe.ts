/** One sentence per account conflict, for API responses (safe to show; names objects by id). */
import { describeLocalFallbackConflict } from "../routes/local-fallback";
import { describeSplitTunnelProblem } from "../split-tunnels/describe";
import type { AccountConflict } from "./account";
import { describeHostnameRouteProxyOff } from "./hostname-routes";
import { describePrivateAppProblem } from "./private-apps";

function virtualNetworkText(id: string | null): string {
  return id === null ? "the default virtual network" : `virtual network ${id}`;
}

/** Describes `conflict` in one sentence. */
export function describeConflict(conflict: AccountConflict): string {
  switch (conflict.code) {
    case "duplicate-route":
      return `${conflict.network} is routed ${conflict.routeIds.length} times in ${virtualNetworkText(conflict.virtualNetworkId)} (routes ${conflict.routeIds.join(", ")})`;
    case "route-overlap":
      return `${conflict.specific.network} (tunnel ${conflict.specific.tunnelId}) lies inside ${conflict.general.network} (tunnel ${conflict.general.tunnelId}); the longest prefix wins, so ${conflict.winner.range} goes to tunnel ${conflict.winner.tunnelId}`;
    case "reserved-range":
      return `${conflict.network} is inside Cloudflare's reserved range ${conflict.reservedRange} (${conflict.purpose})`;
    case "home-lan-overlap":
      return `${conflict.network} overlaps the common home LAN ${conflict.lanRange}; users on such a LAN cannot reach ${conflict.shadowed.join(", ")}`;
    case "hostname-route-proxy-off":
      return describeHostnameRouteProxyOff(conflict);
    case "hostname-route-local-fallback":
      return describeLocalFallbackConflict(conflict);
    case "private-app-not-routed":
    case "private-app-excluded":
      return describePrivateAppProblem(conflict);
    case "route-excluded":
    case "route-not-included":
    case "local-default-routed":
    case "team-domain-not-included":
    case "team-domain-unknown": {
      const profile =
        conflict.profile.kind === "split_tunnel"
          ? "the default device profile"
          : `device profile ${conflict.profile.id}`;
      return `In ${profile}, ${describeSplitTunnelProblem(conflict)}`;
    }
  }
}
