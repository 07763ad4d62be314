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
 * One trie node: its prefix (null for the root joining the two families), its children, and
 * where its choices sit in the choice arena. Per k = 0..`size` prefixes at most, the choice is
 * -1 (the same as k - 1), 0 (the node itself as one prefix) or i > 0 (i prefixes go left).
 */
interface TrieNode {
  network: BudgetNetwork | null;
  /** The largest k the node's table holds: min(leaves below it, budget). */
  size: number;
  /** Position of the node's choice for k = 0 in `Arena.choices`; -1 for a leaf. */
  choicesAt: number;
  left: TrieNode | null;
  right: TrieNode | null;
}

function isLess(p: number, o: number, q: number, r: number): boolean {
  return p < q || (p === q && o < r);
}

/**
 * The tables of the trie in three growable typed arrays rather than three per node: tens of
 * thousands of small typed arrays cost more to allocate and collect than the whole search. The
 * least costs of covering a node's routed addresses with at most k prefixes, as (protected
 * addresses, other addresses) compared in that order, live on a stack: a node's table is needed
 * only until its parent's is made, and the parent's then takes the place of its children's. The
 * choices stay, for reading the list back.
 */
class Arena {
  protectedCost = new Float64Array(1024);
  otherCost = new Float64Array(1024);
  /** First free position of the cost stack. */
  top = 0;
  choices = new Int32Array(1024);
  choicesTop = 0;

  /** Makes room for `count` more costs on the stack. */
  reserveCosts(count: number): void {
    if (this.top + count > this.otherCost.length) {
      const length = Math.max(2 * this.otherCost.length, this.top + count);
      this.protectedCost = grow(this.protectedCost, new Float64Array(length));
      this.otherCost = grow(this.otherCost, new Float64Array(length));
    }
  }

  /** Takes `count` choices; returns where they start. */
  takeChoices(count: number): number {
    if (this.choicesTop + count > this.choices.length) {
      const length = Math.max(2 * this.choices.length, this.choicesTop + count);
      this.choices = grow(this.choices, new Int32Array(length));
    }
    this.choicesTop += count;
    return this.choicesTop - count;
  }
}

function grow<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Whether no list of the table at `at` (k = 0..size) pulls in a protected address. */
function isUnprotected(arena: Arena, at: number, size: number): boolean {
  const costs = arena.protectedCost;
  for (let k = 1; k <= size; k++) {
    if (costs[at + k] !== 0) {
      return false;
    }
  }
  return true;
}

/** Pushes a leaf's table (no prefix: impossible; one: free) and returns its node. */
function pushLeaf(arena: Arena, network: BudgetNetwork): TrieNode {
  arena.reserveCosts(2);
  const at = arena.top;
  arena.protectedCost[at] = Number.POSITIVE_INFINITY;
  arena.otherCost[at] = Number.POSITIVE_INFINITY;
  arena.protectedCost[at + 1] = 0;
  arena.otherCost[at + 1] = 0;
  arena.top += 2;
  return { network, size: 1, choicesAt: -1, left: null, right: null };
}

/**
 * Replaces the tables of `left` and `right` (the last two on the stack) with their parent's:
 * either the parent's own prefix (cost `whole`, absent for the root joining the two families),
 * or prefixes split between the children.
 */
function mergeTables(
  arena: Arena,
  left: TrieNode,
  right: TrieNode,
  network: BudgetNetwork | null,
  whole: [number, number] | null,
  budget: number,
): TrieNode {
  const ml = left.size;
  const mr = right.size;
  const m = Math.min(ml + mr, budget);
  const leftAt = arena.top - (mr + 1) - (ml + 1);
  const rightAt = arena.top - (mr + 1);
  arena.reserveCosts(m + 1);
  const at = arena.top;
  const choicesAt = arena.takeChoices(m + 1);
  const { protectedCost, otherCost, choices } = arena;
  protectedCost.fill(Number.POSITIVE_INFINITY, at, at + m + 1);
  otherCost.fill(Number.POSITIVE_INFINITY, at, at + m + 1);
  choices.fill(0, choicesAt, choicesAt + m + 1);
  if (isUnprotected(arena, leftAt, ml) && isUnprotected(arena, rightAt, mr)) {
    // Most of the trie holds no protected address: compare one cost instead of two.
    protectedCost.fill(0, at + 2, at + m + 1);
    for (let i = 1; i <= ml && i < m; i++) {
      const oi = otherCost[leftAt + i] as number;
      const top = Math.min(mr, m - i);
      for (let j = 1; j <= top; j++) {
        const o = oi + (otherCost[rightAt + j] as number);
        if (o < (otherCost[at + i + j] as number)) {
          otherCost[at + i + j] = o;
          choices[choicesAt + i + j] = i;
        }
      }
    }
  } else {
    for (let i = 1; i <= ml && i < m; i++) {
      const pi = protectedCost[leftAt + i] as number;
      const oi = otherCost[leftAt + i] as number;
      const top = Math.min(mr, m - i);
      for (let j = 1; j <= top; j++) {
        const k = at + i + j;
        const p = pi + (protectedCost[rightAt + j] as number);
        const o = oi + (otherCost[rightAt + j] as number);
        if (isLess(p, o, protectedCost[k] as number, otherCost[k] as number)) {
          protectedCost[k] = p;
          otherCost[k] = o;
          choices[choicesAt + i + j] = i;
        }
      }
    }
  }
  if (whole !== null) {
    protectedCost[at + 1] = whole[0];
    otherCost[at + 1] = whole[1];
    choices[choicesAt + 1] = 0;
  }
  // "At most k": a list with fewer prefixes and no higher cost wins.
  for (let k = at + 2; k <= at + m; k++) {
    const p = protectedCost[k - 1] as number;
    const o = otherCost[k - 1] as number;
    if (!isLess(protectedCost[k] as number, otherCost[k] as number, p, o)) {
      protectedCost[k] = p;
      otherCost[k] = o;
      choices[choicesAt + k - at] = -1;
    }
  }
  protectedCost.copyWithin(leftAt, at, at + m + 1);
  otherCost.copyWithin(leftAt, at, at + m + 1);
  arena.top = leftAt + m + 1;
  return { network, size: m, choicesAt, left, right };
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
  arena: Arena;
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
 * The node of leaves `lo .. hi` (one family, sharing a trie node), its table pushed on the
 * stack, with its routed and routed protected addresses. The node splits where the common bits
 * are fewest; prefixes of one family nest or are disjoint, so that place is unique and the trie
 * is binary, at most 129 levels deep.
 */
function buildNode(build: Build, lo: number, hi: number): [TrieNode, number, number] {
  if (lo === hi) {
    const leaf = build.leaves[lo] as BudgetNetwork;
    return [
      pushLeaf(build.arena, leaf),
      build.leafSizes[lo] as number,
      build.leafProtected[lo] as number,
    ];
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
  return [
    mergeTables(build.arena, left, right, network, whole, build.budget),
    routed,
    routedProtected,
  ];
}

/** The chosen prefixes of `root` for at most `k`, by ascending address. */
function chosen(arena: Arena, root: TrieNode, k: number): BudgetNetwork[] {
  const result: BudgetNetwork[] = [];
  const stack: [TrieNode, number][] = [[root, k]];
  while (stack.length > 0) {
    const [node, count] = stack.pop() as [TrieNode, number];
    if (node.left === null || node.right === null) {
      result.push(node.network as BudgetNetwork);
      continue;
    }
    let at = count;
    while (arena.choices[node.choicesAt + at] === -1) {
      at--;
    }
    const split = arena.choices[node.choicesAt + at] as number;
    if (split === 0) {
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
  const arena = new Arena();
  const build: Build = {
    arena,
    leaves: routed,
    common,
    protectedSet,
    leafSizes,
    leafProtected,
    budget,
  };
  const firstIpv6 = routed.findIndex((r) => r.family === 6);
  const root =
    firstIpv6 <= 0
      ? buildNode(build, 0, routed.length - 1)[0]
      : mergeTables(
          arena,
          buildNode(build, 0, firstIpv6 - 1)[0],
          buildNode(build, firstIpv6, routed.length - 1)[0],
          null,
          null,
          budget,
        );
  const entries = chosen(arena, root, root.size);
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
