/**
 * What fitting a split tunnel list into a profile's `max_entries` costs, and the Exclude side of
 * the fit. The one invariant of every fit: no routed address is ever left out of WARP (an Exclude
 * list never holds one; an Include list holds them all), because a routed address outside WARP
 * breaks access, while an unrouted address inside WARP only takes a longer path.
 */
import {
  type AddressWords,
  compareWords,
  forEachCoverPrefix,
  formatNetwork,
  type IpFamily,
  isSuccessor,
  type Prefix,
  parseKnownNetwork,
  prefixBound,
  unionPrefixes,
  valueOfWords,
} from "../cidr";
import { HOME_LAN_RANGES, LOCAL_DEFAULT_EXCLUDES } from "./defaults";

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
  private readonly networks: BudgetNetwork[];

  /** `ranges`: valid CIDRs, in any order, overlapping or not. */
  constructor(ranges: readonly string[]) {
    this.networks = unionPrefixes(ranges).map((text) => parseKnownNetwork(text));
  }

  /** How many addresses of `network` are protected (the set is a handful of disjoint prefixes). */
  count(network: BudgetNetwork): bigint {
    let count = 0n;
    for (const range of this.networks) {
      if (overlaps(range, network)) {
        count += 1n << BigInt(Math.min(hostBitsOf(range), hostBitsOf(network)));
      }
    }
    return count;
  }
}

/** Whether `outer` holds `inner`, on words without allocating (the hot path of a cut). */
function contains(outer: BudgetNetwork, inner: BudgetNetwork): boolean {
  if (outer.family !== inner.family || outer.prefixLength > inner.prefixLength) {
    return false;
  }
  const hostBits = hostBitsOf(outer);
  for (let i = 0; i < 4; i++) {
    // Host bits in word i; from the first word that is all host bits on, nothing is compared.
    const bits = hostBits - 32 * (3 - i);
    if (bits >= 32) {
      return true;
    }
    const xor = ((outer.words[i] as number) ^ (inner.words[i] as number)) >>> 0;
    if ((bits <= 0 ? xor : xor >>> bits) !== 0) {
      return false;
    }
  }
  return true;
}

/** Whether two prefixes share an address (prefixes nest or are disjoint). */
function overlaps(a: BudgetNetwork, b: BudgetNetwork): boolean {
  return a.prefixLength <= b.prefixLength ? contains(a, b) : contains(b, a);
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

/** A prefix of the union of the candidates, and the candidates inside it. */
export interface ExcludeGroup {
  network: BudgetNetwork;
  /** Positions in `candidates` of the candidates inside `network`, by address. */
  members: number[];
}

/**
 * The minimal cover of the union of `networks` (its maximal prefixes: buddies joined, nested
 * ones gone), by address, each with the networks inside it.
 */
function maximalPrefixes(networks: readonly BudgetNetwork[]): ExcludeGroup[] {
  const groups: ExcludeGroup[] = [];
  let run: { family: IpFamily; first: AddressWords; last: AddressWords; members: number[] } | null =
    null;
  const flush = () => {
    if (run === null) {
      return;
    }
    const { members } = run;
    let next = 0;
    forEachCoverPrefix(run.family, run.first, run.last, (family, words, prefixLength) => {
      const network = {
        family,
        words: [words[0], words[1], words[2], words[3]] as const,
        prefixLength,
      };
      const last = prefixBound(family, words, prefixLength, true);
      const inside: number[] = [];
      while (next < members.length) {
        const member = networks[members[next] as number] as BudgetNetwork;
        if (compareWords(member.words, last) > 0) {
          break;
        }
        inside.push(members[next] as number);
        next++;
      }
      groups.push({ network, members: inside });
    });
  };
  for (const i of sortedPositions(networks)) {
    const network = networks[i] as BudgetNetwork;
    const last = prefixBound(network.family, network.words, network.prefixLength, true);
    if (
      run !== null &&
      run.family === network.family &&
      (compareWords(network.words, run.last) <= 0 || isSuccessor(run.last, network.words))
    ) {
      if (compareWords(last, run.last) > 0) {
        run.last = last;
      }
      run.members.push(i);
      continue;
    }
    flush();
    run = { family: network.family, first: network.words, last, members: [i] };
  }
  flush();
  return groups;
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

/** The result of fitting an Exclude list: the entries that stay, and what the cut costs. */
export interface ExcludeFit {
  /**
   * The list: each candidate alone when they fit; otherwise prefixes of their union, ordered by
   * their first candidate's position.
   */
  kept: ExcludeGroup[];
  cost: ListCost;
}

/**
 * The Exclude list of at most `maxEntries` networks inside the union of `candidates` (the exact
 * list: no routed address; nested or adjacent entries allowed, e.g. `255.255.255.255/32` inside
 * `240.0.0.0/4`, or `ff02::/16` next to `ff03::/16`) that keeps the most unrouted addresses out
 * of WARP, addresses in `protectedRanges` first. When the candidates fit, they are the list.
 *
 * Exact, not a heuristic: an Exclude entry may hold no routed address and no address outside the
 * candidates, so every entry of any valid list lies inside one maximal prefix of their union, and
 * that prefix covers at least as much with one slot. The best list therefore takes whole maximal
 * prefixes, which are disjoint, so the cost (protected addresses through WARP, then the others) is
 * a sum of independent weights, minimised by keeping the heaviest: by protected addresses, then
 * size, then address.
 */
export function fitExcludes(
  candidates: readonly BudgetNetwork[],
  maxEntries: number,
  protectedRanges: readonly string[] = PROTECTED_RANGES,
): ExcludeFit {
  if (candidates.length <= maxEntries) {
    return { kept: candidates.map((network, i) => ({ network, members: [i] })), cost: NO_COST };
  }
  const protectedSet = new ProtectedSet(protectedRanges);
  const groups = maximalPrefixes(candidates);
  const weights = groups.map((group) => protectedSet.count(group.network));
  const isKept = new Uint8Array(groups.length);
  for (const i of heaviestFirst(
    groups.map((group) => group.network),
    weights,
  ).slice(0, maxEntries)) {
    isKept[i] = 1;
  }
  let extraAddresses = 0n;
  let protectedAddresses = 0n;
  const extraRanges: BudgetNetwork[] = [];
  groups.forEach((group, i) => {
    if (isKept[i] === 0) {
      extraAddresses += 1n << BigInt(hostBitsOf(group.network));
      protectedAddresses += weights[i] as bigint;
      extraRanges.push(group.network);
    }
  });
  const kept = groups
    .filter((_, i) => isKept[i] === 1)
    .sort((a, b) => Math.min(...a.members) - Math.min(...b.members));
  return { kept, cost: { extraAddresses, protectedAddresses, extraRanges } };
}

/** Host bits of a network: its size is 2 to that power. */
export function hostBitsOf(network: BudgetNetwork): number {
  return (network.family === 4 ? 32 : 128) - network.prefixLength;
}

/** A network's canonical text. */
export function networkText(network: BudgetNetwork): string {
  return formatNetwork(network.family, network.words, network.prefixLength);
}
