/**
 * An index over routed networks that answers "which routes share an address with this prefix"
 * in O(log n + nesting depth + k) and "what of this prefix do no routes cover", so split tunnel
 * computation stays near-linear for tens of thousands of routes. Routes are deduplicated by
 * network. Prefixes overlap only by nesting, so the routes form a forest; each route keeps the
 * position of its nearest enclosing route.
 *
 * This is the hot path of every plan over a large account, so addresses live in flat typed
 * arrays of 32-bit words (`WordTable`) rather than in an object per route: fewer allocations,
 * and comparisons that read one kind of number.
 */
import {
  type AddressWords,
  type CoverVisitor,
  forEachCoverPrefix,
  type IpFamily,
  type ParsedNetwork,
  parseKnownNetwork,
  prefixBound,
  stepWords,
} from "../cidr";
import { sortRows, WordTable } from "./word-table";

/** A network as the index reads it: family, address words with host bits clear, length. */
export interface NetworkWords {
  family: IpFamily;
  words: AddressWords;
  prefixLength: number;
}

/** Routed networks, sorted by family, first address, then prefix length (broadest first). */
export class RouteIndex {
  /** The distinct routes in sorted order. */
  readonly routes: readonly ParsedNetwork[];
  /** Each route's first and last address, by position in `routes`. */
  private readonly firsts: WordTable;
  private readonly lasts: WordTable;
  /** For each route, the position of its nearest enclosing route, or -1. */
  private readonly parents: Int32Array;
  /** The union of every route: sorted, disjoint, never adjacent ranges. */
  private readonly unionFamilies: IpFamily[] = [];
  private readonly unionFirsts: WordTable;
  private readonly unionLasts: WordTable;

  /** Networks must be valid CIDRs (stored routes are); anything else throws `RangeError`. */
  constructor(networks: readonly string[]) {
    const parsed = networks.map((network) => parseKnownNetwork(network));
    const size = parsed.length;
    // Everything the sort and the build read sits in flat arrays: walking objects in sorted
    // order would jump all over the heap.
    const input = new WordTable(size);
    const families = new Uint8Array(size);
    const lengths = new Uint8Array(size);
    for (let row = 0; row < size; row++) {
      const network = parsed[row] as ParsedNetwork;
      input.set(row, network.words);
      families[row] = network.family;
      lengths[row] = network.prefixLength;
    }
    const order = sortRows(input, families, lengths);
    const routes: ParsedNetwork[] = [];
    this.firsts = new WordTable(size);
    this.lasts = new WordTable(size);
    this.parents = new Int32Array(size);
    this.unionFirsts = new WordTable(size);
    this.unionLasts = new WordTable(size);
    const open: number[] = [];
    let previous = -1;
    for (const row of order) {
      const family = families[row] as IpFamily;
      if (previous < 0 || families[previous] !== family) {
        open.length = 0;
      } else if (lengths[previous] === lengths[row] && input.compare(previous, input, row) === 0) {
        continue;
      }
      previous = row;
      const position = routes.length;
      this.firsts.copy(position, input, row);
      this.lasts.setLast(
        position,
        input,
        row,
        (family === 4 ? 32 : 128) - (lengths[row] as number),
      );
      // Sorted and nested-or-disjoint: a route starting inside an open one lies inside it.
      while (
        open.length > 0 &&
        this.lasts.compare(open[open.length - 1] as number, this.firsts, position) < 0
      ) {
        open.pop();
      }
      this.parents[position] = open.length > 0 ? (open[open.length - 1] as number) : -1;
      open.push(position);
      routes.push(parsed[row] as ParsedNetwork);
      this.addToUnion(family, position);
    }
    this.routes = routes;
  }

  /** Adds route `position`, which sorts at or after every route added before it, to the union. */
  private addToUnion(family: IpFamily, position: number): void {
    const top = this.unionFamilies.length - 1;
    if (
      top >= 0 &&
      this.unionFamilies[top] === family &&
      (this.unionLasts.compare(top, this.firsts, position) >= 0 ||
        this.unionLasts.isFollowedBy(top, this.firsts, position))
    ) {
      if (this.unionLasts.compare(top, this.lasts, position) < 0) {
        this.unionLasts.copy(top, this.lasts, position);
      }
      return;
    }
    this.unionFamilies.push(family);
    this.unionFirsts.copy(top + 1, this.firsts, position);
    this.unionLasts.copy(top + 1, this.lasts, position);
  }

  /** Position of the first route that does not sort before `network` (family, address, length). */
  private firstAtOrInside(network: NetworkWords): number {
    let low = 0;
    let high = this.routes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const route = this.routes[middle] as ParsedNetwork;
      const order =
        route.family - network.family ||
        this.firsts.compareTo(middle, network.words) ||
        route.prefixLength - network.prefixLength;
      if (order < 0) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  /**
   * The routes sharing an address with `network`: those containing it (broadest first), then
   * those inside it (itself included) in sorted order. `network` must have its host bits clear.
   */
  overlapping(network: NetworkWords): ParsedNetwork[] {
    const start = this.firstAtOrInside(network);
    // Every route containing `network` sorts before `start` and encloses the route just before
    // it, so they all sit on that route's chain of parents.
    const containing: ParsedNetwork[] = [];
    for (let i = start - 1; i >= 0; i = this.parents[i] as number) {
      const route = this.routes[i] as ParsedNetwork;
      if (
        route.family === network.family &&
        route.prefixLength <= network.prefixLength &&
        this.lasts.compareTo(i, network.words) >= 0
      ) {
        containing.push(route);
      }
    }
    const result = containing.reverse();
    const last = prefixBound(network.family, network.words, network.prefixLength, true);
    for (let i = start; i < this.routes.length; i++) {
      const route = this.routes[i] as ParsedNetwork;
      if (route.family !== network.family || this.firsts.compareTo(i, last) > 0) {
        break;
      }
      result.push(route);
    }
    return result;
  }

  /**
   * Calls `visit` for each prefix of the minimal cover of the addresses of `network` that no
   * route covers, by ascending address. `network` must have its host bits clear.
   */
  forEachUncoveredPrefix(network: NetworkWords, visit: CoverVisitor): void {
    const { family } = network;
    const last = prefixBound(family, network.words, network.prefixLength, true);
    let cursor = network.words;
    for (let i = this.firstUnionReaching(family, cursor); i < this.unionFamilies.length; i++) {
      if (this.unionFamilies[i] !== family || this.unionFirsts.compareTo(i, last) > 0) {
        break;
      }
      if (this.unionFirsts.compareTo(i, cursor) > 0) {
        forEachCoverPrefix(family, cursor, stepWords(this.unionFirsts.get(i), -1), visit);
      }
      if (this.unionLasts.compareTo(i, last) >= 0) {
        return;
      }
      cursor = stepWords(this.unionLasts.get(i), 1);
    }
    forEachCoverPrefix(family, cursor, last, visit);
  }

  /** Calls `visit` for each prefix of the minimal cover of the union of the routes. */
  forEachRoutedPrefix(visit: CoverVisitor): void {
    this.unionFamilies.forEach((family, i) => {
      forEachCoverPrefix(family, this.unionFirsts.get(i), this.unionLasts.get(i), visit);
    });
  }

  /** Position of the first union range not wholly before `address` of `family`. */
  private firstUnionReaching(family: IpFamily, address: AddressWords): number {
    let low = 0;
    let high = this.unionFamilies.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order =
        (this.unionFamilies[middle] as IpFamily) - family ||
        this.unionLasts.compareTo(middle, address);
      if (order < 0) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }
}
