/**
 * What fitting a split tunnel list into a profile's `max_entries` costs, and the Exclude side of
 * the fit. The one invariant of every fit: no routed address is ever left out of WARP (an Exclude
 * list never holds one; an Include list holds them all), because a routed address outside WARP
 * breaks access, while an unrouted address inside WARP only takes a longer path.
 */
import {
  type AddressWords,
  compareWords,
  formatNetwork,
  type IpFamily,
  type Prefix,
  parseKnownCidr,
  unionPrefixes,
  valueOfWords,
} from "../cidr";
import { HOME_LAN_RANGES, LOCAL_DEFAULT_EXCLUDES } from "./defaults";
import { RouteIndex } from "./route-index";

/** A profile's `max_entries` when it sets none. */
export const DEFAULT_MAX_ENTRIES = 1_000;

/**
 * Addresses a fit never sends through WARP unless a route covers them: the home-router subnets
 * (`HOME_LAN_RANGES`: a user at home reaches them on the LAN) and the WARP defaults that serve the
 * device's own link (`LOCAL_DEFAULT_EXCLUDES`: DHCP, link-local, local multicast).
 */
export const PROTECTED_RANGES: readonly string[] = [
  ...HOME_LAN_RANGES,
  ...LOCAL_DEFAULT_EXCLUDES.map((local) => local.address),
];

/** A network as the fit reads it: family, address words with host bits clear, length. */
export interface BudgetNetwork {
  family: IpFamily;
  words: AddressWords;
  prefixLength: number;
}

/**
 * The unrouted addresses a list sends through WARP beyond what the exact list sends. All zero and
 * empty when the exact list fits the budget.
 */
export interface ListCost {
  /** How many unrouted addresses go through WARP because of the budget (IPv4 and IPv6 together). */
  extraAddresses: bigint;
  /** How many of those lie in `PROTECTED_RANGES` (0 unless the budget cannot avoid them). */
  protectedAddresses: bigint;
  /**
   * Disjoint networks holding exactly those addresses, IPv4 first, ascending (`networkText`
   * prints one; there can be tens of thousands, so none is printed until asked for).
   */
  extraRanges: BudgetNetwork[];
}

/** A cost of nothing: the list is the exact one. */
export const NO_COST: ListCost = { extraAddresses: 0n, protectedAddresses: 0n, extraRanges: [] };

/** The value of `network` as a bigint `Prefix`. */
export function prefixOf(network: BudgetNetwork): Prefix {
  return {
    family: network.family,
    address: valueOfWords(network.words),
    prefixLength: network.prefixLength,
  };
}

/** Protected ranges, for counting how many of a network's addresses lie in them. */
export class ProtectedSet {
  private readonly prefixes: Prefix[];
  private readonly index: RouteIndex;

  /** `ranges`: valid CIDRs, in any order, overlapping or not. */
  constructor(ranges: readonly string[]) {
    const disjoint = unionPrefixes(ranges);
    this.prefixes = disjoint.map(parseKnownCidr);
    this.index = new RouteIndex(disjoint);
  }

  /** How many addresses of `network` are protected. */
  count(network: BudgetNetwork): bigint {
    if (this.prefixes.length === 0 || this.index.overlapping(network).length === 0) {
      return 0n;
    }
    const bits = network.family === 4 ? 32 : 128;
    const own = prefixOf(network);
    let count = 0n;
    for (const range of this.prefixes) {
      const shorter = Math.min(range.prefixLength, own.prefixLength);
      const shift = BigInt(bits - shorter);
      if (range.family === own.family && range.address >> shift === own.address >> shift) {
        count += 1n << BigInt(bits - Math.max(range.prefixLength, own.prefixLength));
      }
    }
    return count;
  }
}

/**
 * Positions of `networks` by family, address, then prefix length, ties in list order. The lists
 * read here are runs already in order (each default's cover is), which the engine's merge sort
 * takes in close to linear time.
 */
function sortedPositions(networks: readonly BudgetNetwork[]): number[] {
  return networks
    .map((_, i) => i)
    .sort((a, b) => {
      const x = networks[a] as BudgetNetwork;
      const y = networks[b] as BudgetNetwork;
      return (
        x.family - y.family || compareWords(x.words, y.words) || x.prefixLength - y.prefixLength
      );
    });
}

/**
 * For each network, the position of its nearest enclosing network (an equal one earlier in the
 * list counts as enclosing), or -1. O(n) after the sort.
 */
function enclosingPositions(networks: readonly BudgetNetwork[]): Int32Array {
  const parents = new Int32Array(networks.length).fill(-1);
  const open: number[] = [];
  for (const i of sortedPositions(networks)) {
    const network = networks[i] as BudgetNetwork;
    while (open.length > 0 && !contains(networks[open[open.length - 1] as number], network)) {
      open.pop();
    }
    parents[i] = open.length > 0 ? (open[open.length - 1] as number) : -1;
    open.push(i);
  }
  return parents;
}

function contains(outer: BudgetNetwork | undefined, inner: BudgetNetwork): boolean {
  if (
    outer === undefined ||
    outer.family !== inner.family ||
    outer.prefixLength > inner.prefixLength
  ) {
    return false;
  }
  const hostBits = (outer.family === 4 ? 32 : 128) - outer.prefixLength;
  for (let i = 0; i < 4; i++) {
    const bits = Math.min(32, Math.max(0, hostBits - 32 * (3 - i)));
    // The network bits of word i: all of it (bits 0) down to none (bits 32).
    const mask = bits === 32 ? 0 : bits === 0 ? -1 : ~(2 ** bits - 1);
    if ((((outer.words[i] as number) ^ (inner.words[i] as number)) & mask) !== 0) {
      return false;
    }
  }
  return true;
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Positions of `candidates` by protected addresses (`weights`), then size, then position: the few
 * with protected addresses by comparison, the rest bucketed by host bits (size by host bits, not
 * prefix length: an IPv6 /64 holds more addresses than all of IPv4).
 */
function heaviestFirst(candidates: readonly BudgetNetwork[], weights: readonly bigint[]): number[] {
  const weighted: number[] = [];
  const buckets: number[][] = Array.from({ length: 129 }, () => []);
  candidates.forEach((candidate, i) => {
    if ((weights[i] as bigint) > 0n) {
      weighted.push(i);
    } else {
      (buckets[hostBitsOf(candidate)] as number[]).push(i);
    }
  });
  weighted.sort(
    (a, b) =>
      compareBigints(weights[b] as bigint, weights[a] as bigint) ||
      hostBitsOf(candidates[b] as BudgetNetwork) - hostBitsOf(candidates[a] as BudgetNetwork) ||
      a - b,
  );
  return [...weighted, ...buckets.reverse().flat()];
}

/** The result of fitting an Exclude list: which entries stay, and what dropping the rest costs. */
export interface ExcludeFit {
  /** Positions (ascending) of the `candidates` kept. */
  kept: number[];
  cost: ListCost;
}

/**
 * The Exclude list of at most `maxEntries` networks, drawn from `candidates` (the exact list: no
 * routed address, possibly nested, e.g. `255.255.255.255/32` inside `240.0.0.0/4`), that keeps
 * the most unrouted addresses out of WARP, addresses in `protectedRanges` first.
 *
 * Exact, not a heuristic: an Exclude entry may hold no routed address and no address outside the
 * defaults, so every entry of any valid list lies inside one candidate, and a candidate covers at
 * least as much as any set of entries inside it while using one slot. The best list therefore
 * keeps whole candidates, and the cost (protected addresses through WARP, then other addresses)
 * is a sum of independent weights, minimised by keeping the heaviest: by protected addresses,
 * then size, then list position (a nested candidate after the one holding it, and skipped when
 * that one is kept, as it adds nothing). A fit of the exact list costs nothing and keeps all.
 */
export function fitExcludes(
  candidates: readonly BudgetNetwork[],
  maxEntries: number,
  protectedRanges: readonly string[] = PROTECTED_RANGES,
): ExcludeFit {
  const all = candidates.map((_, i) => i);
  if (candidates.length <= maxEntries) {
    return { kept: all, cost: NO_COST };
  }
  const protectedSet = new ProtectedSet(protectedRanges);
  const weights = candidates.map((c) => protectedSet.count(c));
  const parents = enclosingPositions(candidates);
  const order = heaviestFirst(candidates, weights);
  const covered = new Uint8Array(candidates.length);
  const isKept = new Uint8Array(candidates.length);
  let slots = maxEntries;
  for (const i of order) {
    const parent = parents[i] as number;
    if (parent >= 0 && (isKept[parent] === 1 || covered[parent] === 1)) {
      covered[i] = 1;
    } else if (slots > 0) {
      isKept[i] = 1;
      slots--;
    }
  }
  // The dropped candidates outside every other candidate hold all the cost, and are disjoint.
  const dropped = all.filter((i) => isKept[i] === 0 && (parents[i] as number) < 0);
  let extraAddresses = 0n;
  let protectedAddresses = 0n;
  for (const i of dropped) {
    extraAddresses += 1n << BigInt(hostBitsOf(candidates[i] as BudgetNetwork));
    protectedAddresses += weights[i] as bigint;
  }
  const byAddress = sortedPositions(dropped.map((i) => candidates[i] as BudgetNetwork));
  return {
    kept: all.filter((i) => isKept[i] === 1),
    cost: {
      extraAddresses,
      protectedAddresses,
      extraRanges: byAddress.map((j) => candidates[dropped[j] as number] as BudgetNetwork),
    },
  };
}

/** Host bits of a network: its size is 2 to that power. */
export function hostBitsOf(network: BudgetNetwork): number {
  return (network.family === 4 ? 32 : 128) - network.prefixLength;
}

/** A network's canonical text. */
export function networkText(network: BudgetNetwork): string {
  return formatNetwork(network.family, network.words, network.prefixLength);
}
