/**
 * Conflicts between tunnel routes, found before they reach Cloudflare: the same network twice
 * in one virtual network (Cloudflare answers 409), nested routes of different tunnels (longest
 * prefix wins, which may surprise), Cloudflare's reserved ranges, and common home LAN subnets.
 */
import {
  CLOUDFLARE_RESERVED_RANGES,
  findReservedRange,
  formatPrefix,
  type Prefix,
  parseKnownCidr,
  prefixContains,
  type ReservedRange,
} from "../cidr";
import { homeLanOverlaps } from "../split-tunnels";

/** A tunnel route as the conflict check sees it. */
export interface RouteRef {
  /** tunnelplane id of the route. */
  id: string;
  /** Canonical CIDR. */
  network: string;
  /** tunnelplane id of the tunnel serving it. */
  tunnelId: string;
  /** tunnelplane id of the virtual network, or null for the account's default one. */
  virtualNetworkId: string | null;
}

/**
 * One conflict. `severity` `error` means Cloudflare (or tunnelplane) refuses the route; the API
 * answers 409 for `duplicate-route` and 422 for `reserved-range`. Warnings are reported only.
 * - `duplicate-route`: `routeIds` (input order) announce `network` in one virtual network.
 * - `route-overlap`: `specific` lies inside `general` in one virtual network and their tunnels
 *   differ; `winner` says which route carries which range (the longest prefix: `specific`).
 * - `reserved-range`: the route is inside a Cloudflare reserved range.
 * - `home-lan-overlap`: the route overlaps a common home router subnet; `shadowed` is the part
 *   users at home cannot reach.
 */
export type RouteConflict =
  | {
      code: "duplicate-route";
      severity: "error";
      virtualNetworkId: string | null;
      network: string;
      routeIds: string[];
    }
  | {
      code: "route-overlap";
      severity: "warning";
      virtualNetworkId: string | null;
      specific: RouteRef;
      general: RouteRef;
      winner: { routeId: string; tunnelId: string; range: string };
    }
  | {
      code: "reserved-range";
      severity: "error";
      routeId: string;
      network: string;
      reservedRange: string;
      purpose: string;
    }
  | {
      code: "home-lan-overlap";
      severity: "warning";
      routeId: string;
      network: string;
      lanRange: string;
      shadowed: string[];
    };

interface ParsedRoute {
  route: RouteRef;
  prefix: Prefix;
  /** Position in the input, to keep ties stable. */
  index: number;
}

function compareParsed(a: ParsedRoute, b: ParsedRoute): number {
  return (
    a.prefix.family - b.prefix.family ||
    (a.prefix.address < b.prefix.address ? -1 : a.prefix.address > b.prefix.address ? 1 : 0) ||
    a.prefix.prefixLength - b.prefix.prefixLength ||
    a.index - b.index
  );
}

function isSameNetwork(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.address === b.address && a.prefixLength === b.prefixLength;
}

/** Routes of one virtual network grouped by network, sorted (IPv4 first, address, broadest). */
function groupByNetwork(routes: ParsedRoute[]): ParsedRoute[][] {
  const groups: ParsedRoute[][] = [];
  for (const route of [...routes].sort(compareParsed)) {
    const last = groups[groups.length - 1];
    const head = last?.[0];
    if (last && head && isSameNetwork(head.prefix, route.prefix)) {
      last.push(route);
    } else {
      groups.push([route]);
    }
  }
  return groups;
}

function overlapsWithin(
  virtualNetworkId: string | null,
  groups: ParsedRoute[][],
  duplicates: RouteConflict[],
  overlaps: RouteConflict[],
): void {
  // Sorted broadest-first, each group's containing networks are exactly the stack left after
  // popping the groups that do not contain it.
  const ancestors: ParsedRoute[][] = [];
  for (const group of groups) {
    const head = group[0] as ParsedRoute;
    if (group.length > 1) {
      duplicates.push({
        code: "duplicate-route",
        severity: "error",
        virtualNetworkId,
        network: head.route.network,
        routeIds: [...group].sort((a, b) => a.index - b.index).map((item) => item.route.id),
      });
    }
    while (ancestors.length > 0) {
      const top = ancestors[ancestors.length - 1]?.[0] as ParsedRoute;
      if (prefixContains(top.prefix, head.prefix)) {
        break;
      }
      ancestors.pop();
    }
    for (const ancestor of ancestors) {
      for (const general of ancestor) {
        for (const specific of group) {
          if (general.route.tunnelId !== specific.route.tunnelId) {
            overlaps.push({
              code: "route-overlap",
              severity: "warning",
              virtualNetworkId,
              specific: specific.route,
              general: general.route,
              winner: {
                routeId: specific.route.id,
                tunnelId: specific.route.tunnelId,
                range: specific.route.network,
              },
            });
          }
        }
      }
    }
    ancestors.push(group);
  }
}

/**
 * Every conflict among `routes`, grouped by code in this order: `duplicate-route`,
 * `route-overlap` (virtual networks in order of first appearance, networks sorted IPv4 first,
 * by address, broadest first), `reserved-range`, `home-lan-overlap` (both in input order).
 * Networks must be valid CIDRs (stored routes are canonical); anything else throws `RangeError`.
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/reserved-ips/
 */
export function findRouteConflicts(
  routes: readonly RouteRef[],
  reservedRanges: readonly ReservedRange[] = CLOUDFLARE_RESERVED_RANGES,
): RouteConflict[] {
  const byVirtualNetwork = new Map<string | null, ParsedRoute[]>();
  const parsed = routes.map((route, index) => ({
    route,
    prefix: parseKnownCidr(route.network),
    index,
  }));
  for (const item of parsed) {
    const list = byVirtualNetwork.get(item.route.virtualNetworkId) ?? [];
    list.push(item);
    byVirtualNetwork.set(item.route.virtualNetworkId, list);
  }
  const duplicates: RouteConflict[] = [];
  const overlaps: RouteConflict[] = [];
  for (const [virtualNetworkId, list] of byVirtualNetwork) {
    overlapsWithin(virtualNetworkId, groupByNetwork(list), duplicates, overlaps);
  }
  const reserved: RouteConflict[] = [];
  const homeLan: RouteConflict[] = [];
  for (const { route, prefix } of parsed) {
    const match = findReservedRange(prefix, reservedRanges);
    if (match?.relation === "inside") {
      reserved.push({
        code: "reserved-range",
        severity: "error",
        routeId: route.id,
        network: route.network,
        reservedRange: match.range.network,
        purpose: match.range.purpose,
      });
    }
    for (const overlap of homeLanOverlaps([formatPrefix(prefix)])) {
      homeLan.push({
        code: "home-lan-overlap",
        severity: "warning",
        routeId: route.id,
        network: route.network,
        lanRange: overlap.lanRange,
        shadowed: overlap.shadowed,
      });
    }
  }
  return [...duplicates, ...overlaps, ...reserved, ...homeLan];
}
