/**
 * An index over a set of routed networks that answers "which routes share an address with this
 * prefix" in O(prefix length + log n + k), so split tunnel computation stays near-linear for
 * thousands of routes. Routes are deduplicated by canonical network.
 */
import {
  type AddressRange,
  formatPrefix,
  hostMask,
  type Prefix,
  parseKnownCidr,
  rangeOfPrefix,
  toAddressSet,
} from "../cidr";

/** A routed network in parsed form. */
export interface IndexedRoute {
  /** Canonical CIDR. */
  network: string;
  prefix: Prefix;
  range: AddressRange;
}

function prefixKey(family: number, address: bigint, prefixLength: number): string {
  return `${family}:${address.toString(16)}/${prefixLength}`;
}

/** Routed networks, sorted by family, first address, then prefix length (broadest first). */
export class RouteIndex {
  /** The routes in sorted order. */
  readonly routes: readonly IndexedRoute[];
  /** The union of every route, normalised. */
  readonly addressSet: readonly AddressRange[];
  private readonly byKey = new Map<string, IndexedRoute>();

  /** Networks must be valid CIDRs (stored routes are); anything else throws `RangeError`. */
  constructor(networks: readonly string[]) {
    const routes: IndexedRoute[] = [];
    for (const network of networks) {
      const prefix = parseKnownCidr(network);
      const key = prefixKey(prefix.family, prefix.address, prefix.prefixLength);
      if (!this.byKey.has(key)) {
        const route = { network: formatPrefix(prefix), prefix, range: rangeOfPrefix(prefix) };
        this.byKey.set(key, route);
        routes.push(route);
      }
    }
    routes.sort(
      (a, b) =>
        a.prefix.family - b.prefix.family ||
        (a.prefix.address < b.prefix.address ? -1 : a.prefix.address > b.prefix.address ? 1 : 0) ||
        a.prefix.prefixLength - b.prefix.prefixLength,
    );
    this.routes = routes;
    this.addressSet = toAddressSet(routes.map((route) => route.range));
  }

  /**
   * The routes sharing an address with `prefix`: those containing it (broadest first), then
   * those inside it in sorted order. Two prefixes overlap only by nesting, so nothing is missed.
   */
  overlapping(prefix: Prefix): IndexedRoute[] {
    const result: IndexedRoute[] = [];
    for (let length = 0; length < prefix.prefixLength; length++) {
      const address = prefix.address & ~hostMask(prefix.family, length);
      const route = this.byKey.get(prefixKey(prefix.family, address, length));
      if (route) {
        result.push(route);
      }
    }
    const range = rangeOfPrefix(prefix);
    let low = 0;
    let high = this.routes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const candidate = (this.routes[middle] as IndexedRoute).range;
      if (
        candidate.family < range.family ||
        (candidate.family === range.family && candidate.first < range.first)
      ) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    for (let i = low; i < this.routes.length; i++) {
      const route = this.routes[i] as IndexedRoute;
      if (route.range.family !== range.family || route.range.first > range.last) {
        break;
      }
      if (route.prefix.prefixLength >= prefix.prefixLength) {
        result.push(route);
      }
    }
    return result;
  }
}
