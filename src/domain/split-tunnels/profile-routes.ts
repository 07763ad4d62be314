/**
 * Which routed networks a device profile's split tunnel follows. A profile names the virtual
 * networks its users reach; routes outside them are not its business, so an `auto` list neither
 * carves them out of the defaults nor includes them.
 */

/** The selection entry that names the account's default virtual network. */
export const DEFAULT_VIRTUAL_NETWORK = "default";

/** A tunnel route as a profile's selection sees it. */
export interface SelectableRoute {
  /** Canonical CIDR. */
  network: string;
  /** tunnelplane id of the virtual network, or null for the account's default one. */
  virtualNetworkId: string | null;
}

/**
 * The routes in the selected virtual networks, in input order.
 *
 * `selection` null means every virtual network. Otherwise it holds tunnelplane virtual network
 * ids and/or `default`; `default` and the id of the desired default virtual network
 * (`defaultVirtualNetworkId`, null when no desired one is the default) name the same network, which
 * also carries every route whose `virtualNetworkId` is null. Unknown ids select nothing.
 */
export function selectRoutes<T extends SelectableRoute>(
  selection: readonly string[] | null,
  routes: readonly T[],
  defaultVirtualNetworkId: string | null,
): T[] {
  if (selection === null) {
    return [...routes];
  }
  const keyOf = (id: string | null) =>
    id === null || id === defaultVirtualNetworkId ? DEFAULT_VIRTUAL_NETWORK : id;
  const selected = new Set(selection.map(keyOf));
  return routes.filter((route) => selected.has(keyOf(route.virtualNetworkId)));
}

/** The networks of `selectRoutes` (duplicates kept: the split tunnel computation drops them). */
export function routedNetworksFor(
  selection: readonly string[] | null,
  routes: readonly SelectableRoute[],
  defaultVirtualNetworkId: string | null,
): string[] {
  return selectRoutes(selection, routes, defaultVirtualNetworkId).map((route) => route.network);
}
