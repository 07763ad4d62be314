/**
 * What a device reaches in the virtual network it has selected in WARP: the routes of that
 * network only, and the account's hostname routes (Cloudflare gives them no virtual network).
 * Hostname lookup follows Cloudflare's rule for hostname routes, not split tunnels': a route
 * stored as `apps.acme.internal` (written `*.apps.acme.internal` or not) serves that name and
 * names exactly one label below it; an exact route wins over a wildcard one.
 */

import type { DesiredObject, DesiredState, ObservedState } from "../model";
import { readMarker } from "../plan/ownership";
import { err, ok, type Result } from "../result";
import { cloudflareHostname } from "../routes/hostname";

/** The selection that names the account's default virtual network. */
export const DEFAULT_VIRTUAL_NETWORK = "default";

/** The virtual network a device has selected. */
export interface SelectedNetwork {
  /** `default`, or the tunnelplane id of a (non-default) virtual network. */
  id: string;
  /** Its Cloudflare id when known (what Gateway's `net.vnet_id` compares), else null. */
  cloudflareId: string | null;
  name: string;
}

/** A hostname route as explain sees it. */
export interface ViewHostnameRoute {
  /** tunnelplane id, or `cloudflare:<id>` for an unmanaged route. */
  id: string;
  /** As written (desired) or as Cloudflare stores it (observed). */
  hostname: string;
  tunnel: { id: string; name: string; health: string };
}

/** Why a view cannot be built for a virtual network: no such network. */
export interface UnknownVirtualNetworkError {
  code: "unknown-virtual-network";
  virtualNetwork: string;
}

function live<K extends DesiredObject["kind"]>(desired: DesiredState, kind: K): DesiredObject<K>[] {
  return desired.objects.filter(
    (o): o is DesiredObject<K> => o.kind === kind && o.deletedAtMs === null,
  );
}

/**
 * The desired virtual network `selection` names (`default`, the desired default's id, or another
 * live one's id) and a filter for its routes' `virtualNetworkId` (null is the default network).
 */
export function selectDesiredNetwork(
  desired: DesiredState,
  selection: string,
): Result<
  { network: SelectedNetwork; holds: (id: string | null) => boolean },
  UnknownVirtualNetworkError
> {
  const vnets = live(desired, "virtual_network");
  const defaultVnet = vnets.find((v) => v.spec.isDefault);
  const isDefault = selection === DEFAULT_VIRTUAL_NETWORK || selection === defaultVnet?.id;
  if (isDefault) {
    const network = {
      id: DEFAULT_VIRTUAL_NETWORK,
      cloudflareId: defaultVnet?.cloudflareId ?? null,
      name: defaultVnet?.spec.name ?? DEFAULT_VIRTUAL_NETWORK,
    };
    return ok({ network, holds: (id) => id === null || id === defaultVnet?.id });
  }
  const vnet = vnets.find((v) => v.id === selection);
  if (vnet === undefined) {
    return err({ code: "unknown-virtual-network", virtualNetwork: selection });
  }
  const network = { id: vnet.id, cloudflareId: vnet.cloudflareId, name: vnet.spec.name };
  return ok({ network, holds: (id) => id === vnet.id });
}

/**
 * The observed virtual network `selection` names (`default`, or the tunnelplane id its comment
 * carries) and its Cloudflare id, which routes carry.
 */
export function selectObservedNetwork(
  observed: ObservedState,
  selection: string,
): Result<SelectedNetwork, UnknownVirtualNetworkError> {
  const vnet = observed.virtualNetworks.find((v) =>
    selection === DEFAULT_VIRTUAL_NETWORK
      ? v.isDefault
      : readMarker(v.comment).ownerId === selection || v.cloudflareId === selection,
  );
  if (vnet === undefined) {
    return err({ code: "unknown-virtual-network", virtualNetwork: selection });
  }
  const id = vnet.isDefault ? DEFAULT_VIRTUAL_NETWORK : selection;
  return ok({ id, cloudflareId: vnet.cloudflareId, name: vnet.name });
}

/** The desired hostname routes with their tunnels. */
export function desiredHostnameRoutes(
  desired: DesiredState,
  tunnelHealth: ReadonlyMap<string, string>,
): ViewHostnameRoute[] {
  const tunnels = new Map(live(desired, "tunnel").map((t) => [t.id, t.spec.name]));
  return live(desired, "hostname_route").map((r) => ({
    id: r.id,
    hostname: r.spec.hostname,
    tunnel: {
      id: r.spec.tunnelId,
      name: tunnels.get(r.spec.tunnelId) ?? r.spec.tunnelId,
      health: tunnelHealth.get(r.spec.tunnelId) ?? "unknown",
    },
  }));
}

/** The observed hostname routes with their tunnels. */
export function observedHostnameRoutes(observed: ObservedState): ViewHostnameRoute[] {
  const tunnels = new Map(observed.tunnels.map((t) => [t.cloudflareId, t]));
  return observed.hostnameRoutes.map((r) => ({
    id: readMarker(r.comment).ownerId ?? `cloudflare:${r.cloudflareId}`,
    hostname: r.hostname,
    tunnel: {
      id: `cloudflare:${r.tunnelCloudflareId}`,
      name: tunnels.get(r.tunnelCloudflareId)?.name ?? r.tunnelCloudflareId,
      health: tunnels.get(r.tunnelCloudflareId)?.status ?? "unknown",
    },
  }));
}

/**
 * The hostname route serving `host` (lower case, no wildcard): one whose Cloudflare form is
 * `host` itself, else one whose Cloudflare form is `host` without its first label; null when none.
 */
export function matchHostnameRoute(
  routes: readonly ViewHostnameRoute[],
  host: string,
): ViewHostnameRoute | null {
  const parent = host.includes(".") ? host.slice(host.indexOf(".") + 1) : null;
  const stored = routes.map((route) => ({ route, form: cloudflareHostname(route.hostname) }));
  return (
    stored.find((s) => s.form === host)?.route ??
    stored.find((s) => parent !== null && s.form === parent)?.route ??
    null
  );
}
