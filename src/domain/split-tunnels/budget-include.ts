/**
 * The Include side of fitting a split tunnel list into `max_entries`: the fewest unrouted
 * addresses pulled into WARP by merging routed prefixes into covering ones, by dynamic
 * programming over the prefix trie of the routed ranges. Every routed address stays included.
 */
import {
  type AddressWords,
  compareWords,
  forEachCoverPrefix,
  type IpFamily,
  prefixBound,
  stepWords,
} from "../cidr";
import {
  type BudgetNetwork,
  hostBitsOf,
  type ListCost,
  NO_COST,
  PROTECTED_RANGES,
  ProtectedSet,
} from "./budget";

/**
 * One trie node's table: for k = 0..m prefixes at most, the least cost of covering the node's
 * routed addresses, as (protected addresses, other addresses) compared in that order, and how.
 */
interface Table {
  network: BudgetNetwork | null;
  protectedCost: Float64Array;
  otherCost: Float64Array;
  /** Per k: -1 the same as k - 1; 0 the node itself as one prefix; i > 0 i prefixes go left. */
  choice: Int32Array;
  left: Table | null;
  right: Table | null;
}

function isLess(p: number, o: number, q: number, r: number): boolean {
  return p < q || (p === q && o < r);
}

// Every leaf has the same table (no prefix: impossible; one: free), so leaves share one.
const LEAF_COST = Float64Array.of(Number.POSITIVE_INFINITY, 0);
const LEAF_CHOICE = Int32Array.of(0, 0);

/** Whether no list of `table` for one or more prefixes pulls in a protected address. */
function isUnprotected(table: Table): boolean {
  const costs = table.protectedCost;
  for (let k = 1; k < costs.length; k++) {
    if (costs[k] !== 0) {
      return false;
    }
  }
  return true;
}

function leafTable(network: BudgetNetwork): Table {
  return {
    network,
    protectedCost: LEAF_COST,
    otherCost: LEAF_COST,
    choice: LEAF_CHOICE,
    left: null,
    right: null,
  };
}

/**
 * The table of a node with children `left` and `right`: either the node's own prefix (cost
 * `whole`, absent for the root joining the two families), or prefixes split between the children.
 */
function mergeTables(
  left: Table,
  right: Table,
  network: BudgetNetwork | null,
  whole: [number, number] | null,
  budget: number,
): Table {
  const ml = left.protectedCost.length - 1;
  const mr = right.protectedCost.length - 1;
  const m = Math.min(ml + mr, budget);
  const protectedCost = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
  const otherCost = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
  const choice = new Int32Array(m + 1);
  const lp = left.protectedCost;
  const lo = left.otherCost;
  const rp = right.protectedCost;
  const ro = right.otherCost;
  if (isUnprotected(left) && isUnprotected(right)) {
    // Most of the trie holds no protected address: compare one cost instead of two.
    protectedCost.fill(0, 2);
    for (let i = 1; i <= ml && i < m; i++) {
      const oi = lo[i] as number;
      const top = Math.min(mr, m - i);
      for (let j = 1; j <= top; j++) {
        const o = oi + (ro[j] as number);
        if (o < (otherCost[i + j] as number)) {
          otherCost[i + j] = o;
          choice[i + j] = i;
        }
      }
    }
  } else {
    for (let i = 1; i <= ml && i < m; i++) {
      const pi = lp[i] as number;
      const oi = lo[i] as number;
      const top = Math.min(mr, m - i);
      for (let j = 1; j <= top; j++) {
        const k = i + j;
        const p = pi + (rp[j] as number);
        const o = oi + (ro[j] as number);
        if (isLess(p, o, protectedCost[k] as number, otherCost[k] as number)) {
          protectedCost[k] = p;
          otherCost[k] = o;
          choice[k] = i;
        }
      }
    }
  }
  if (whole !== null) {
    protectedCost[1] = whole[0];
    otherCost[1] = whole[1];
    choice[1] = 0;
  }
  // "At most k": a list with fewer prefixes and no higher cost wins.
  for (let k = 2; k <= m; k++) {
    const p = protectedCost[k - 1] as number;
    const o = otherCost[k - 1] as number;
    if (!isLess(protectedCost[k] as number, otherCost[k] as number, p, o)) {
      protectedCost[k] = p;
      otherCost[k] = o;
      choice[k] = -1;
    }
  }
  return { network, protectedCost, otherCost, choice, left, right };
}

/** Common leading bits of two addresses of one family. */
function commonBits(family: IpFamily, a: BudgetNetwork, b: BudgetNetwork): number {
  for (let i = 0; i < 4; i++) {
    const xor = ((a.words[i] as number) ^ (b.words[i] as number)) >>> 0;
    if (xor !== 0) {
      return 32 * i + Math.clz32(xor) - (family === 4 ? 96 : 0);
    }
  }
  return family === 4 ? 32 : 128;
}

/** Everything the trie build reads, shared by every node. */
interface Build {
  leaves: readonly BudgetNetwork[];
  /** `common[i]`: common leading bits of leaves i and i + 1 (same family). */
  common: Int32Array;
  protectedSet: ProtectedSet;
  /** Per leaf: routed and protected addresses, as numbers (exact below 2^53). */
  leafSizes: Float64Array;
  leafProtected: Float64Array;
  budget: number;
}

/**
 * The table of leaves `lo .. hi` (one family, sharing a trie node), with its routed and routed
 * protected addresses. The node splits where the common bits are fewest; prefixes of one family
 * nest or are disjoint, so that place is unique and the trie is binary, at most 129 levels deep.
 */
function buildNode(build: Build, lo: number, hi: number): [Table, number, number] {
  if (lo === hi) {
    const leaf = build.leaves[lo] as BudgetNetwork;
    return [leafTable(leaf), build.leafSizes[lo] as number, build.leafProtected[lo] as number];
  }
  let split = lo;
  for (let i = lo + 1; i < hi; i++) {
    if ((build.common[i] as number) < (build.common[split] as number)) {
      split = i;
    }
  }
  const [left, routedLeft, protectedLeft] = buildNode(build, lo, split);
  const [right, routedRight, protectedRight] = buildNode(build, split + 1, hi);
  const first = build.leaves[lo] as BudgetNetwork;
  const prefixLength = build.common[split] as number;
  const network: BudgetNetwork = {
    family: first.family,
    words: prefixBound(first.family, first.words, prefixLength, false),
    prefixLength,
  };
  const routed = routedLeft + routedRight;
  const routedProtected = protectedLeft + protectedRight;
  const inNode = Number(build.protectedSet.count(network));
  const whole: [number, number] = [inNode - routedProtected, 2 ** hostBitsOf(network) - routed];
  return [mergeTables(left, right, network, whole, build.budget), routed, routedProtected];
}

/** The chosen prefixes of `table` for at most `k`, by ascending address. */
function chosen(table: Table, k: number): BudgetNetwork[] {
  const result: BudgetNetwork[] = [];
  const stack: [Table, number][] = [[table, k]];
  while (stack.length > 0) {
    const [node, count] = stack.pop() as [Table, number];
    let at = count;
    while (node.choice[at] === -1) {
      at--;
    }
    const split = node.choice[at] as number;
    if (split === 0 || node.left === null || node.right === null) {
      result.push(node.network as BudgetNetwork);
    } else {
      stack.push([node.right, at - split], [node.left, split]);
    }
  }
  return result;
}

/** The Include list that fits, with what it costs. */
export interface IncludeFit {
  /** The prefixes to include, IPv4 first, by ascending address. */
  entries: BudgetNetwork[];
  cost: ListCost;
}

/**
 * The Include list of at most `maxEntries` prefixes (at least one per family routed) that holds
 * every address of `routed` (the minimal cover of the routed ranges: disjoint, IPv4 first,
 * ascending) and pulls the fewest unrouted addresses into WARP: fewest in `protectedRanges`
 * first, then fewest overall. When `routed` fits, it is the answer at no cost.
 *
 * Exact: on the binary trie of `routed`, a node's routed addresses are covered either by the
 * node's own prefix (one entry; cost: its unrouted addresses) or by covers of its two children
 * that share its budget; the table of least costs per budget is built bottom up (O(n · budget)
 * pairs in all), and a prefix that is no trie node is never better than the trie node below it
 * holding the same routes. Counts are compared as doubles: exact for IPv4 and for IPv6 costs
 * below 2^53 addresses.
 */
export function fitIncludes(
  routed: readonly BudgetNetwork[],
  maxEntries: number,
  protectedRanges: readonly string[] = PROTECTED_RANGES,
): IncludeFit {
  if (routed.length <= maxEntries) {
    return { entries: [...routed], cost: NO_COST };
  }
  const protectedSet = new ProtectedSet(protectedRanges);
  const common = new Int32Array(routed.length);
  const leafSizes = new Float64Array(routed.length);
  const leafProtected = new Float64Array(routed.length);
  routed.forEach((leaf, i) => {
    const next = routed[i + 1];
    common[i] = next?.family === leaf.family ? commonBits(leaf.family, leaf, next) : -1;
    leafSizes[i] = 2 ** hostBitsOf(leaf);
    leafProtected[i] = Number(protectedSet.count(leaf));
  });
  const families = routed.some((r) => r.family === 4) && routed.some((r) => r.family === 6);
  const budget = Math.max(maxEntries, families ? 2 : 1);
  const build: Build = { leaves: routed, common, protectedSet, leafSizes, leafProtected, budget };
  const firstIpv6 = routed.findIndex((r) => r.family === 6);
  const roots =
    firstIpv6 <= 0
      ? [buildNode(build, 0, routed.length - 1)[0]]
      : [buildNode(build, 0, firstIpv6 - 1)[0], buildNode(build, firstIpv6, routed.length - 1)[0]];
  const root =
    roots.length === 1
      ? (roots[0] as Table)
      : mergeTables(roots[0] as Table, roots[1] as Table, null, null, budget);
  const entries = chosen(root, root.choice.length - 1);
  return { entries, cost: includeCost(entries, routed, protectedSet) };
}

/**
 * What `entries` (sorted, each holding whole routed prefixes) add to `routed`: the gaps inside
 * each entry, as their minimal cover, by a merge of the two sorted lists on words.
 */
function includeCost(
  entries: readonly BudgetNetwork[],
  routed: readonly BudgetNetwork[],
  protectedSet: ProtectedSet,
): ListCost {
  const extraRanges: BudgetNetwork[] = [];
  let extraAddresses = 0n;
  let protectedAddresses = 0n;
  const visit = (family: IpFamily, words: AddressWords, prefixLength: number) => {
    const network = {
      family,
      words: [words[0], words[1], words[2], words[3]] as const,
      prefixLength,
    };
    extraRanges.push(network);
    extraAddresses += 1n << BigInt(hostBitsOf(network));
    protectedAddresses += protectedSet.count(network);
  };
  let leaf = 0;
  for (const entry of entries) {
    const last = prefixBound(entry.family, entry.words, entry.prefixLength, true);
    let cursor: AddressWords | null = entry.words;
    for (; leaf < routed.length; leaf++) {
      const inner = routed[leaf] as BudgetNetwork;
      if (inner.family !== entry.family || compareWords(inner.words, last) > 0) {
        break;
      }
      if (cursor !== null && compareWords(inner.words, cursor) > 0) {
        forEachCoverPrefix(entry.family, cursor, stepWords(inner.words, -1), visit);
      }
      const innerLast = prefixBound(inner.family, inner.words, inner.prefixLength, true);
      cursor = compareWords(innerLast, last) === 0 ? null : stepWords(innerLast, 1);
    }
    if (cursor !== null) {
      forEachCoverPrefix(entry.family, cursor, last, visit);
    }
  }
  return { extraAddresses, protectedAddresses, extraRanges };
}
