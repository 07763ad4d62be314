/**
 * What fitting a split tunnel list into a profile's `max_entries` costs, and the Exclude side of
 * the fit. The one invariant of every fit: no routed address is ever left out of WARP (an Exclude
 * list never holds one; an Include list holds them all), because a routed address outside WARP
 * breaks access, while an unrouted address inside WARP only takes a longer path.
 */
import {
  type AddressRange,
  type AddressWords,
  compareWords,
  formatNetwork,
  type IpFamily,
  intersection,
  minimalCoverText,
  type Prefix,
  parseKnownCidr,
  prefixBound,
  unionPrefixes,
  valueOfWords,
} from "../cidr";
import { HOME_LAN_RANGES, LOCAL_DEFAULT_EXCLUDES } from "./defaults";
import { sortRows, WordTable } from "./word-table";

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
  /** Those addresses as their minimal cover: canonical CIDRs, IPv4 first, ascending. */
  extraRanges: string[];
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

/** `ranges` as a cost: their size, their protected part and their minimal cover. */
export function costOf(ranges: readonly AddressRange[], protectedRanges: readonly string[]) {
  let extraAddresses = 0n;
  for (const range of ranges) {
    extraAddresses += range.last - range.first + 1n;
  }
  let protectedAddresses = 0n;
  for (const range of intersection(ranges, protectedRanges.map(parseKnownCidr))) {
    protectedAddresses += range.last - range.first + 1n;
  }
  return { extraAddresses, protectedAddresses, extraRanges: minimalCoverText(ranges) };
}

/** The protected ranges as disjoint bigint prefixes, for counting what a network holds of them. */
export function protectedPrefixes(protectedRanges: readonly string[]): Prefix[] {
  return unionPrefixes(protectedRanges).map(parseKnownCidr);
}

/** How many addresses of `network` lie in `protectedSet` (disjoint prefixes). */
export function protectedCount(network: Prefix, protectedSet: readonly Prefix[]): bigint {
  const bits = network.family === 4 ? 32 : 128;
  let count = 0n;
  for (const range of protectedSet) {
    if (range.family !== network.family) {
      continue;
    }
    const shorter = Math.min(range.prefixLength, network.prefixLength);
    const shift = BigInt(bits - shorter);
    if (range.address >> shift === network.address >> shift) {
      count += 1n << BigInt(bits - Math.max(range.prefixLength, network.prefixLength));
    }
  }
  return count;
}

/**
 * For each network, the position of its nearest enclosing network (an equal one earlier in the
 * list counts as enclosing), or -1. O(n) after a radix sort.
 */
function enclosingPositions(networks: readonly BudgetNetwork[]): Int32Array {
  const size = networks.length;
  const words = new WordTable(size);
  const families = new Uint8Array(size);
  const lengths = new Uint8Array(size);
  networks.forEach((network, i) => {
    words.set(i, network.words);
    families[i] = network.family;
    lengths[i] = network.prefixLength;
  });
  const parents = new Int32Array(size).fill(-1);
  const open: number[] = [];
  for (const i of sortRows(words, families, lengths)) {
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
  return (
    outer !== undefined &&
    outer.family === inner.family &&
    outer.prefixLength <= inner.prefixLength &&
    compareWords(prefixBound(inner.family, inner.words, outer.prefixLength, false), outer.words) ===
      0
  );
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
  const protectedSet = protectedPrefixes(protectedRanges);
  const weights = candidates.map((c) =>
    protectedSet.length === 0 ? 0n : protectedCount(prefixOf(c), protectedSet),
  );
  const parents = enclosingPositions(candidates);
  // By host bits, not prefix length: an IPv6 /64 holds more addresses than all of IPv4.
  const order = [...all].sort(
    (a, b) =>
      compareBigints(weights[b] as bigint, weights[a] as bigint) ||
      hostBitsOf(candidates[b] as BudgetNetwork) - hostBitsOf(candidates[a] as BudgetNetwork) ||
      a - b,
  );
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
  const dropped: Prefix[] = [];
  for (let i = 0; i < candidates.length; i++) {
    // A dropped candidate inside another candidate is counted with that one.
    if (isKept[i] === 0 && covered[i] === 0 && (parents[i] as number) < 0) {
      dropped.push(prefixOf(candidates[i] as BudgetNetwork));
    }
  }
  return {
    kept: all.filter((i) => isKept[i] === 1).sort((a, b) => a - b),
    cost: costOf(rangesOf(dropped), protectedRanges),
  };
}

/** Host bits of a network: its size is 2 to that power. */
export function hostBitsOf(network: BudgetNetwork): number {
  return (network.family === 4 ? 32 : 128) - network.prefixLength;
}

/** Disjoint prefixes as sorted ranges. */
export function rangesOf(prefixes: readonly Prefix[]): AddressRange[] {
  return prefixes
    .map((p) => ({
      family: p.family,
      first: p.address,
      last: p.address | ((1n << BigInt((p.family === 4 ? 32 : 128) - p.prefixLength)) - 1n),
    }))
    .sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
}

/** A network's canonical text. */
export function networkText(network: BudgetNetwork): string {
  return formatNetwork(network.family, network.words, network.prefixLength);
}
