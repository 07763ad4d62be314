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
  private readonly ipv4: BudgetNetwork[];
  private readonly ipv6: BudgetNetwork[];

  /** `ranges`: valid CIDRs, in any order, overlapping or not. */
  constructor(ranges: readonly string[]) {
    const networks = unionPrefixes(ranges).map((text) => parseKnownNetwork(text));
    this.ipv4 = networks.filter((network) => network.family === 4);
    this.ipv6 = networks.filter((network) => network.family === 6);
  }

  /** How many addresses of `network` are protected (the set is a handful of disjoint prefixes). */
  count(network: BudgetNetwork): bigint {
    let count = 0n;
    for (const range of network.family === 4 ? this.ipv4 : this.ipv6) {
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
  if (outer.family === 4) {
    return hostBits === 32 || (outer.words[3] ^ inner.words[3]) >>> hostBits === 0;
  }
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

/** Whether `network` starts past the prefix of `prefixLength` bits at `words` (same family). */
function startsPast(
  network: BudgetNetwork,
  family: IpFamily,
  words: AddressWords,
  prefixLength: number,
): boolean {
  if (family === 4) {
    return network.words[3] > words[3] + 2 ** (32 - prefixLength) - 1;
  }
  return compareWords(network.words, prefixBound(family, words, prefixLength, true)) > 0;
}

/**
 * The groups of one run of overlapping or adjacent `networks` (`members`, by address): the
 * minimal cover of the run's addresses from `first` to `last`, each prefix with the members
 * inside it. A prefix that is a member alone keeps that member's object: a carved default's run
 * is its own minimal cover, so most runs allocate nothing new.
 */
function coverRun(
  networks: readonly BudgetNetwork[],
  members: readonly number[],
  first: BudgetNetwork,
  last: AddressWords,
  groups: ExcludeGroup[],
): void {
  let next = 0;
  forEachCoverPrefix(first.family, first.words, last, (family, words, prefixLength) => {
    const at = members[next] as number;
    const member = networks[at] as BudgetNetwork;
    const following = networks[members[next + 1] ?? -1];
    if (
      member.prefixLength === prefixLength &&
      compareWords(member.words, words) === 0 &&
      (following === undefined || startsPast(following, family, words, prefixLength))
    ) {
      groups.push({ network: member, members: [at] });
      next++;
      return;
    }
    const inside: number[] = [];
    while (next < members.length) {
      const candidate = networks[members[next] as number] as BudgetNetwork;
      if (startsPast(candidate, family, words, prefixLength)) {
        break;
      }
      inside.push(members[next] as number);
      next++;
    }
    const network = {
      family,
      words: [words[0], words[1], words[2], words[3]] as const,
      prefixLength,
    };
    groups.push({ network, members: inside });
  });
}

/**
 * The minimal cover of the union of `networks` (its maximal prefixes: buddies joined, nested
 * ones gone), by address, each with the networks inside it.
 */
function maximalPrefixes(networks: readonly BudgetNetwork[]): ExcludeGroup[] {
  const groups: ExcludeGroup[] = [];
  const order = sortedPositions(networks);
  let start = 0;
  while (start < order.length) {
    const first = networks[order[start] as number] as BudgetNetwork;
    let last = prefixBound(first.family, first.words, first.prefixLength, true);
    let end = start + 1;
    for (; end < order.length; end++) {
      const network = networks[order[end] as number] as BudgetNetwork;
      if (
        network.family !== first.family ||
        (compareWords(network.words, last) > 0 && !isSuccessor(last, network.words))
      ) {
        break;
      }
      const networkLast = prefixBound(network.family, network.words, network.prefixLength, true);
      if (compareWords(networkLast, last) > 0) {
        last = networkLast;
      }
    }
    if (end === start + 1) {
      groups.push({ network: first, members: [order[start] as number] });
    } else {
      coverRun(networks, order.slice(start, end), first, last, groups);
    }
    start = end;
  }
  return groups;
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Marks the `maxEntries` groups to keep: by protected addresses (`weights`), then size, then
 * position. The few with protected addresses are sorted; the rest are counted by host bits (size
 * by host bits, not prefix length: an IPv6 /64 holds more addresses than all of IPv4) and taken
 * from the largest size down, the last size taken by position, without sorting them.
 */
function keepHeaviest(
  networks: readonly BudgetNetwork[],
  weights: readonly bigint[],
  isProtected: Uint8Array,
  maxEntries: number,
): Uint8Array {
  const isKept = new Uint8Array(networks.length);
  const weighted: number[] = [];
  const sizes = new Int32Array(129);
  networks.forEach((network, i) => {
    if (isProtected[i] === 1) {
      weighted.push(i);
    } else {
      (sizes[hostBitsOf(network)] as number)++;
    }
  });
  weighted.sort(
    (a, b) =>
      compareBigints(weights[b] as bigint, weights[a] as bigint) ||
      hostBitsOf(networks[b] as BudgetNetwork) - hostBitsOf(networks[a] as BudgetNetwork) ||
      a - b,
  );
  for (const i of weighted.slice(0, maxEntries)) {
    isKept[i] = 1;
  }
  let room = Math.max(0, maxEntries - weighted.length);
  // Every size above `smallest` is kept whole; of size `smallest`, the first `partial` by
  // position, or all of them while `partial` is -1.
  let smallest = 129;
  let partial = -1;
  while (room > 0 && smallest > 0) {
    smallest--;
    const count = sizes[smallest] as number;
    if (count >= room) {
      partial = room;
    }
    room -= Math.min(room, count);
  }
  networks.forEach((network, i) => {
    const hostBits = hostBitsOf(network);
    if (isProtected[i] === 1 || hostBits < smallest) {
      return;
    }
    if (hostBits > smallest) {
      isKept[i] = 1;
    } else if (partial !== 0) {
      isKept[i] = 1;
      partial = partial > 0 ? partial - 1 : partial;
    }
  });
  return isKept;
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
  const isProtected = Uint8Array.from(weights, (weight) => (weight > 0n ? 1 : 0));
  const isKept = keepHeaviest(
    groups.map((group) => group.network),
    weights,
    isProtected,
    maxEntries,
  );
  // IPv4 sizes add up exactly as numbers (at most 2^32 in all); IPv6 ones need bigints.
  let ipv4Addresses = 0;
  let ipv6Addresses = 0n;
  let protectedAddresses = 0n;
  const extraRanges: BudgetNetwork[] = [];
  const kept: { group: ExcludeGroup; first: number }[] = [];
  groups.forEach((group, i) => {
    if (isKept[i] === 1) {
      kept.push({ group, first: Math.min(...group.members) });
      return;
    }
    const { network } = group;
    if (network.family === 4) {
      ipv4Addresses += 2 ** hostBitsOf(network);
    } else {
      ipv6Addresses += 1n << BigInt(hostBitsOf(network));
    }
    if (isProtected[i] === 1) {
      protectedAddresses += weights[i] as bigint;
    }
    extraRanges.push(network);
  });
  const extraAddresses = BigInt(ipv4Addresses) + ipv6Addresses;
  return {
    kept: kept.sort((a, b) => a.first - b.first).map(({ group }) => group),
    cost: { extraAddresses, protectedAddresses, extraRanges },
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
