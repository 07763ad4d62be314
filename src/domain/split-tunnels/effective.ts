/**
 * The split tunnel list a device profile should carry, computed from the profile spec and the
 * routed networks, and the routes that list leaves unreachable. Pure and deterministic: the same
 * spec and routes (in any order) give the same entries in the same order.
 */
import {
  type AddressRange,
  difference,
  formatNetwork,
  formatPrefix,
  intersectRange,
  minimalCover,
  parseKnownCidr,
  parseKnownNetwork,
  rangeOfPrefix,
  toAddressSet,
} from "../cidr";
import type { SplitTunnelEntry, SplitTunnelProfileSpec } from "../model";
import { WARP_DEFAULT_EXCLUDES } from "./defaults";
import { RouteIndex } from "./route-index";

/** Why an entry is in the effective list. */
export type EffectiveEntrySource =
  /** A WARP default Exclude entry that no route touches, kept as is. */
  | { kind: "warp-default" }
  /** Part of WARP default `parent` left after removing the routes in `carvedBy` (canonical). */
  | { kind: "warp-default-remainder"; parent: string; carvedBy: string[] }
  /** Include mode with `auto`: covers the routed networks in `routes` (canonical, sorted). */
  | { kind: "route"; routes: string[] }
  /** Listed by the user in the profile spec. */
  | { kind: "user" };

/** A split tunnel entry as it will be written, with the reason it is there. */
export type EffectiveSplitTunnelEntry = SplitTunnelEntry & { source: EffectiveEntrySource };

/**
 * A routed network the list makes (partly) unreachable. `severity` is `error` when tunnelplane
 * computes the list (`auto`) and the user's own entry defeats a route, `warning` otherwise.
 * - `route-excluded`: an Exclude entry shares addresses with the route; `unreachable` is that
 *   overlap (the more specific of the two prefixes).
 * - `route-not-included`: Include mode without `auto`, and no include entry covers `unreachable`
 *   (the minimal cover of the route's uncovered part); `entry` is null.
 */
export type SplitTunnelProblem =
  | {
      code: "route-excluded";
      severity: "error" | "warning";
      /** Canonical CIDR of the route. */
      routeNetwork: string;
      /** The Exclude entry, as listed. */
      entry: SplitTunnelEntry;
      /** Canonical CIDRs of the route's addresses that bypass WARP. */
      unreachable: string[];
    }
  | {
      code: "route-not-included";
      severity: "warning";
      routeNetwork: string;
      entry: null;
      unreachable: string[];
    };

/** The effective list and the problems found with it. */
export interface EffectiveSplitTunnel {
  entries: EffectiveSplitTunnelEntry[];
  problems: SplitTunnelProblem[];
}

function canonicalAddressOf(entry: SplitTunnelEntry): string | undefined {
  return "address" in entry ? parseKnownNetwork(entry.address).network : undefined;
}

/** WARP defaults minus the routed ranges, each default carved into its own minimal cover. */
function carveDefaults(routes: RouteIndex): EffectiveSplitTunnelEntry[] {
  const entries: EffectiveSplitTunnelEntry[] = [];
  for (const fallback of WARP_DEFAULT_EXCLUDES) {
    const parent = parseKnownNetwork(fallback.address);
    const carvedBy = routes.overlapping(parent).map((route) => route.network);
    if (carvedBy.length === 0) {
      entries.push({ ...fallback, source: { kind: "warp-default" } });
      continue;
    }
    // One source object for all of a default's remainders: there can be thousands of them.
    const source = { kind: "warp-default-remainder", parent: fallback.address, carvedBy } as const;
    routes.forEachUncoveredPrefix(parent, (family, words, prefixLength) => {
      const address = formatNetwork(family, words, prefixLength);
      entries.push({ address, description: fallback.description, source });
    });
  }
  return entries;
}

/** The minimal cover of the routed ranges, each prefix naming the routes it carries. */
function includeRoutes(routes: RouteIndex): EffectiveSplitTunnelEntry[] {
  const entries: EffectiveSplitTunnelEntry[] = [];
  routes.forEachRoutedPrefix((family, words, prefixLength) => {
    const carried = routes.overlapping({ family, words, prefixLength });
    entries.push({
      address: formatNetwork(family, words, prefixLength),
      description: "",
      source: { kind: "route", routes: carried.map((route) => route.network) },
    });
  });
  return entries;
}

/** Computed entries first, then the user's; a user entry replaces a computed one at its address. */
function withUserEntries(
  computed: EffectiveSplitTunnelEntry[],
  user: readonly SplitTunnelEntry[],
): EffectiveSplitTunnelEntry[] {
  if (user.length === 0) {
    // The computed list can run to thousands of entries; no need to copy it.
    return computed;
  }
  const userAddresses = new Set(user.map(canonicalAddressOf));
  // Computed addresses are canonical already; only the user's need parsing.
  return [
    ...computed.filter((entry) => !("address" in entry && userAddresses.has(entry.address))),
    ...user.map((entry) => ({ ...entry, source: { kind: "user" } as const })),
  ];
}

function excludedRoutes(
  excludes: readonly SplitTunnelEntry[],
  routes: RouteIndex,
  severity: "error" | "warning",
): SplitTunnelProblem[] {
  const problems: SplitTunnelProblem[] = [];
  for (const entry of excludes) {
    if (!("address" in entry)) {
      continue;
    }
    const excluded = parseKnownNetwork(entry.address);
    for (const route of routes.overlapping(excluded)) {
      const inner = route.prefixLength >= excluded.prefixLength ? route : excluded;
      problems.push({
        code: "route-excluded",
        severity,
        routeNetwork: route.network,
        entry,
        unreachable: [inner.network],
      });
    }
  }
  return problems;
}

function uncoveredRoutes(
  includes: readonly SplitTunnelEntry[],
  routes: RouteIndex,
): SplitTunnelProblem[] {
  const included: AddressRange[] = toAddressSet(
    includes.flatMap((entry) => ("address" in entry ? [parseKnownCidr(entry.address)] : [])),
  );
  const problems: SplitTunnelProblem[] = [];
  for (const route of routes.routes) {
    const range = rangeOfPrefix(route.prefix);
    const missing = difference([range], intersectRange(included, range));
    if (missing.length > 0) {
      problems.push({
        code: "route-not-included",
        severity: "warning",
        routeNetwork: route.network,
        entry: null,
        unreachable: minimalCover(missing).map(formatPrefix),
      });
    }
  }
  return problems;
}

/**
 * Computes a profile's effective split tunnel list (DESIGN.md §1, §5).
 *
 * - Exclude + `auto`: every WARP default (`WARP_DEFAULT_EXCLUDES`) minus every routed range,
 *   each default replaced by the minimal cover of what is left of it (remainders keep the
 *   default's description), then the user's entries. A user exclude overlapping a route: error.
 * - Include + `auto`: the minimal cover of the union of the routed ranges, then the user's
 *   entries. No problem can arise.
 * - `auto` false: exactly the user's entries. An exclude overlapping a route is a warning; in
 *   Include mode, a route not fully covered by the include entries is a warning.
 *
 * Order: computed entries (defaults in table order, each default's remainders by ascending
 * address; include prefixes IPv4 before IPv6 by address), then user entries as listed. A user
 * address entry replaces the computed entry with the same network. Problems are ordered by user
 * entry then route (Exclude), or by route (Include); routes sort IPv4 first, by address, broadest
 * first. Host entries are kept but never checked (they resolve on the client).
 *
 * `routedNetworks` and address entries must be valid CIDRs (desired state is stored canonical);
 * anything else is a broken invariant and throws `RangeError`.
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/route-traffic/split-tunnels/
 */
export function effectiveSplitTunnel(
  spec: SplitTunnelProfileSpec,
  routedNetworks: readonly string[],
): EffectiveSplitTunnel {
  const routes = new RouteIndex(routedNetworks);
  if (!spec.auto) {
    return {
      entries: withUserEntries([], spec.entries),
      problems:
        spec.mode === "exclude"
          ? excludedRoutes(spec.entries, routes, "warning")
          : uncoveredRoutes(spec.entries, routes),
    };
  }
  if (spec.mode === "include") {
    return { entries: withUserEntries(includeRoutes(routes), spec.entries), problems: [] };
  }
  return {
    entries: withUserEntries(carveDefaults(routes), spec.entries),
    problems: excludedRoutes(spec.entries, routes, "error"),
  };
}
