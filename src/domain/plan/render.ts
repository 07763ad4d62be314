/**
 * Desired specs -> the Cloudflare-shaped values tunnelplane sends, and observed Cloudflare objects
 * -> the same shape. Both sides go through the same canonical ordering, so a converged account
 * compares equal and plans zero actions despite server-side normalisation.
 */
import { canonicalCidr } from "../cidr/parse";
import type {
  DesiredObject,
  ObservedHostnameRoute,
  ObservedNetworkPolicy,
  ObservedSplitTunnel,
  ObservedTunnelRoute,
  ObservedVirtualNetwork,
  SplitTunnelEntry,
} from "../model";
import { normalizeExpression, renderDevicePosture, renderNetworkPolicy } from "../policies/render";
import { cloudflareHostname } from "../routes/hostname";
import type {
  RenderedHostnameRoute,
  RenderedNetworkPolicy,
  RenderedSplitTunnel,
  RenderedTunnelRoute,
  RenderedVirtualNetwork,
} from "./actions";
import { withMarker } from "./ownership";

/** A CIDR in canonical form, or the input unchanged when it does not parse. */
function canonicalOrSelf(network: string): string {
  const parsed = canonicalCidr(network);
  return parsed.ok ? parsed.value : network;
}

function entryKey(entry: SplitTunnelEntry): string {
  return "address" in entry ? `a:${entry.address}` : `h:${entry.host}`;
}

/**
 * Puts split tunnel entries in one canonical order (addresses canonical, hosts lower case, sorted
 * by value), because Cloudflare does not promise to keep the order it was sent.
 */
export function canonicalSplitTunnelEntries(entries: SplitTunnelEntry[]): SplitTunnelEntry[] {
  return entries
    .map(
      (entry): SplitTunnelEntry =>
        "address" in entry
          ? { address: canonicalOrSelf(entry.address), description: entry.description }
          : { host: entry.host.toLowerCase(), description: entry.description },
    )
    .sort((a, b) => (entryKey(a) < entryKey(b) ? -1 : entryKey(a) > entryKey(b) ? 1 : 0));
}

/** The virtual network tunnelplane sends for a desired one. */
export function renderVirtualNetwork(
  object: DesiredObject<"virtual_network">,
): RenderedVirtualNetwork {
  const { name, comment, isDefault } = object.spec;
  return { name, comment: withMarker(comment, object.id), isDefault };
}

/** The tunnel route tunnelplane sends; `defaultVirtualNetworkKey` stands in for a null vnet. */
export function renderTunnelRoute(
  object: DesiredObject<"tunnel_route">,
  defaultVirtualNetworkKey: string | null,
): RenderedTunnelRoute {
  const { network, tunnelId, virtualNetworkId, comment } = object.spec;
  return {
    network: canonicalOrSelf(network),
    tunnelKey: tunnelId,
    virtualNetworkKey: virtualNetworkId ?? defaultVirtualNetworkKey,
    comment: withMarker(comment, object.id),
  };
}

/** The hostname route tunnelplane sends, its hostname in the form Cloudflare stores. */
export function renderHostnameRoute(
  object: DesiredObject<"hostname_route">,
): RenderedHostnameRoute {
  const { hostname, tunnelId, comment } = object.spec;
  return {
    hostname: cloudflareHostname(hostname),
    tunnelKey: tunnelId,
    comment: withMarker(comment, object.id),
  };
}

/** An observed hostname route in the rendered shape, its tunnel mapped back to a key. */
export function observedHostnameRoute(
  observed: ObservedHostnameRoute,
  tunnelKey: (cloudflareId: string) => string,
): RenderedHostnameRoute {
  return {
    hostname: cloudflareHostname(observed.hostname),
    tunnelKey: tunnelKey(observed.tunnelCloudflareId),
    comment: observed.comment,
  };
}

/** The Gateway rule tunnelplane sends for a desired network policy. */
export function renderPolicy(object: DesiredObject<"network_policy">): RenderedNetworkPolicy {
  const { name, action, enabled, precedence } = object.spec;
  const { traffic, identity } = renderNetworkPolicy(object.spec);
  return {
    name,
    description: withMarker(object.spec.description ?? "", object.id),
    action,
    enabled,
    precedence,
    filters: ["l4"],
    traffic: normalizeExpression(traffic),
    identity: normalizeExpression(identity),
    devicePosture: renderDevicePosture(object.spec.devicePostureIds ?? []),
  };
}

/** An observed virtual network in the rendered shape. */
export function observedVirtualNetwork(observed: ObservedVirtualNetwork): RenderedVirtualNetwork {
  return { name: observed.name, comment: observed.comment, isDefault: observed.isDefault };
}

/** An observed route in the rendered shape, with Cloudflare ids mapped back to keys. */
export function observedTunnelRoute(
  observed: ObservedTunnelRoute,
  keyOf: {
    tunnel: (cloudflareId: string) => string;
    virtualNetwork: (id: string) => string | null;
  },
): RenderedTunnelRoute {
  return {
    network: canonicalOrSelf(observed.network),
    tunnelKey: keyOf.tunnel(observed.tunnelCloudflareId),
    virtualNetworkKey: keyOf.virtualNetwork(observed.virtualNetworkCloudflareId),
    comment: observed.comment,
  };
}

/** An observed split tunnel list in the rendered shape. */
export function observedSplitTunnel(observed: ObservedSplitTunnel): RenderedSplitTunnel {
  return {
    profileId: observed.profileId,
    mode: observed.mode,
    entries: canonicalSplitTunnelEntries(observed.entries),
  };
}

/** An observed Gateway rule in the rendered shape. */
export function observedPolicy(observed: ObservedNetworkPolicy): RenderedNetworkPolicy {
  return {
    name: observed.name,
    description: observed.description,
    action: observed.action,
    enabled: observed.enabled,
    precedence: observed.precedence,
    filters: observed.filters,
    traffic: normalizeExpression(observed.traffic),
    identity: normalizeExpression(observed.identity),
    devicePosture: normalizeExpression(observed.devicePosture),
  };
}
