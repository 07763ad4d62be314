/**
 * An index over routed networks that answers "which routes share an address with this prefix"
 * in O(log n + nesting depth + k), so split tunnel computation stays near-linear for thousands of
 * routes. Routes are deduplicated by canonical network. Prefixes overlap only by nesting, so the
 * routes form a forest; each route keeps the index of its nearest enclosing route.
 */
import {
  type AddressRange,
  canonicalKnownCidr,
  type Prefix,
  parseKnownCidr,
  prefixContains,
  rangeOfPrefix,
} from "../cidr";

/** A routed network in parsed form. */
export interface IndexedRoute {
  /** Canonical CIDR. */
  network: string;
  prefix: Prefix;
  range: AddressRange;
}

function compareRoutes(a: IndexedRoute, b: IndexedRoute): number {
  const x = a.prefix;
  const y = b.prefix;
  return (
    x.family - y.family ||
    (x.address < y.address ? -1 : x.address > y.address ? 1 : x.prefixLength - y.prefixLength)
  );
}

/** Routed networks, sorted by family, first address, then prefix length (broadest first). */
export class RouteIndex {
  /** The distinct routes in sorted order. */
  readonly routes: readonly IndexedRoute[];
  /** The union of every route, normalised. */
  readonly addressSet: readonly AddressRange[];
  /** For each route, the position of its nearest enclosing route, or -1. */
  private readonly parents: readonly number[];

  /** Networks must be valid CIDRs (stored routes are); anything else throws `RangeError`. */
  constructor(networks: readonly string[]) {
    const ipv4: IndexedRoute[] = [];
    const ipv6: IndexedRoute[] = [];
    for (const network of networks) {
      const prefix = parseKnownCidr(network);
      const route = {
        network: canonicalKnownCidr(network),
        prefix,
        range: rangeOfPrefix(prefix),
      };
      (prefix.family === 4 ? ipv4 : ipv6).push(route);
    }
    // Sorting each family apart spares every comparison the family test.
    ipv4.sort(compareRoutes);
    ipv6.sort(compareRoutes);
    const routes: IndexedRoute[] = [];
    const parents: number[] = [];
    const addressSet: AddressRange[] = [];
    const open: number[] = [];
    for (const sorted of [ipv4, ipv6]) {
      open.length = 0;
      for (const route of sorted) {
        const previous = routes[routes.length - 1];
        if (previous !== undefined && compareRoutes(previous, route) === 0) {
          continue;
        }
        // Sorted and nested-or-disjoint: a route starting inside an open one lies inside it.
        while (open.length > 0) {
          const top = routes[open[open.length - 1] as number] as IndexedRoute;
          if (route.range.first <= top.range.last) {
            break;
          }
          open.pop();
        }
        parents.push(open.length > 0 ? (open[open.length - 1] as number) : -1);
        open.push(routes.length);
        routes.push(route);
        const merged = addressSet[addressSet.length - 1];
        if (
          merged !== undefined &&
          merged.family === route.range.family &&
          route.range.first <= merged.last + 1n
        ) {
          if (route.range.last > merged.last) {
            addressSet[addressSet.length - 1] = { ...merged, last: route.range.last };
          }
        } else {
          addressSet.push(route.range);
        }
      }
    }
    this.routes = routes;
    this.parents = parents;
    this.addressSet = addressSet;
  }

  /** Position of the first route sorting after every route that starts before `prefix` or contains it. */
  private firstAtOrInside(prefix: Prefix): number {
    let low = 0;
    let high = this.routes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const candidate = (this.routes[middle] as IndexedRoute).prefix;
      if (
        candidate.family < prefix.family ||
        (candidate.family === prefix.family &&
          (candidate.address < prefix.address ||
            (candidate.address === prefix.address && candidate.prefixLength < prefix.prefixLength)))
      ) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  /**
   * The routes sharing an address with `prefix`: those containing it (broadest first), then
   * those inside it (itself included) in sorted order.
   */
  overlapping(prefix: Prefix): IndexedRoute[] {
    const start = this.firstAtOrInside(prefix);
    // Every route containing `prefix` sorts before `start` and encloses the route just before it,
    // so they all sit on that route's chain of parents.
    const containing: IndexedRoute[] = [];
    for (let i = start - 1; i >= 0; i = this.parents[i] as number) {
      const route = this.routes[i] as IndexedRoute;
      if (prefixContains(route.prefix, prefix)) {
        containing.push(route);
      }
    }
    const result = containing.reverse();
    const last = rangeOfPrefix(prefix).last;
    for (let i = start; i < this.routes.length; i++) {
      const route = this.routes[i] as IndexedRoute;
      if (route.prefix.family !== prefix.family || route.prefix.address > last) {
        break;
      }
      result.push(route);
    }
    return result;
  }
}
