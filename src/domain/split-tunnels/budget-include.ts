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
 * One trie node: its prefix (null for the root joining the two families; an internal node's
 * words are its first leaf's, host bits not cleared), its children, and
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
  hulls = new HullScratch();

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
 * Writes into `hull[1..size]` the lower convex hull of the points (k, `costs[at + k]`),
 * k = 1..size: a lower bound of each cost that is convex in k. `stack` has room for `size` + 1.
 */
function lowerHull(
  costs: Float64Array,
  at: number,
  size: number,
  hull: Float64Array,
  stack: Int32Array,
): void {
  let top = 0;
  for (let x = 1; x <= size; x++) {
    const y = costs[at + x] as number;
    while (top >= 2) {
      const x1 = stack[top - 2] as number;
      const x2 = stack[top - 1] as number;
      const y1 = costs[at + x1] as number;
      const y2 = costs[at + x2] as number;
      // The middle point goes when it lies on or above the line from the first to the new one.
      if ((y2 - y1) * (x - x1) < (y - y1) * (x2 - x1)) {
        break;
      }
      top--;
    }
    stack[top++] = x;
  }
  for (let corner = 0; corner + 1 < top; corner++) {
    const x1 = stack[corner] as number;
    const x2 = stack[corner + 1] as number;
    const y1 = costs[at + x1] as number;
    const slope = ((costs[at + x2] as number) - y1) / (x2 - x1);
    for (let x = x1; x < x2; x++) {
      hull[x] = y1 + slope * (x - x1);
    }
  }
  const last = stack[top - 1] as number;
  hull[last] = costs[at + last] as number;
}

/** Scratch arrays for the hulls of the two tables of a merge, grown as tables grow. */
class HullScratch {
  left = new Float64Array(0);
  right = new Float64Array(0);
  stack = new Int32Array(0);
  /** Two tables' costs as one key each (`KEY_SCALE`), and the merged keys. */
  keys = new Float64Array(0);
  merged = new Float64Array(0);

  ensure(size: number): void {
    if (this.left.length <= size) {
      this.left = new Float64Array(2 * size + 2);
      this.right = new Float64Array(2 * size + 2);
      this.stack = new Int32Array(2 * size + 2);
    }
  }

  ensureKeys(size: number): void {
    if (this.keys.length <= size) {
      this.keys = new Float64Array(2 * size + 2);
      this.merged = new Float64Array(2 * size + 2);
    }
  }
}

/**
 * A cost (protected, other) as one number, protected * KEY_SCALE + other, which orders as the
 * pair does while other < KEY_SCALE, and is exact while the sum of two keys stays below 2^53:
 * both hold when protected < 2^17 and other < 2^33, as in any IPv4 table.
 */
const KEY_SCALE = 2 ** 34;

/** Whether the table at `at` (k = 1..size) fits one key per cost (`KEY_SCALE`). */
function fitsKeys(arena: Arena, at: number, size: number): boolean {
  for (let k = 1; k <= size; k++) {
    if (
      !((arena.protectedCost[at + k] as number) < 2 ** 17) ||
      !((arena.otherCost[at + k] as number) < 2 ** 33)
    ) {
      return false;
    }
  }
  return true;
}

/**
 * The least sums over the splits of k = 2..m prefixes between two children (i to the left,
 * k - i to the right, at least one each; `costs` from `leftAt` and `rightAt`), written to `out`
 * from `at`, with the split of each (the fewest to the left on a tie) from `choicesAt`.
 *
 * Exact, and far fewer sums than all the splits: with each table's lower convex hull, hull(i) +
 * hull(k - i) bounds the sum at i from below and is convex in i, so from its least point the
 * bound only grows each way, and the search each way stops once the bound passes the best sum
 * found (by a margin above the rounding of the hulls; the costs are whole numbers).
 */
function mergeCosts(
  costs: Float64Array,
  leftAt: number,
  leftSize: number,
  rightAt: number,
  rightSize: number,
  out: Float64Array,
  at: number,
  choices: Int32Array,
  choicesAt: number,
  m: number,
  scratch: HullScratch,
): void {
  scratch.ensure(Math.max(leftSize, rightSize));
  const { left: hullLeft, right: hullRight, stack } = scratch;
  lowerHull(costs, leftAt, leftSize, hullLeft, stack);
  lowerHull(costs, rightAt, rightSize, hullRight, stack);
  // Whole numbers: a bound past the best sum by more than the hulls' rounding rules a split out.
  const slack = (cost: number) => cost + 0.5 + Math.abs(cost) * 1e-9;
  let center = 1;
  for (let k = 2; k <= m; k++) {
    const low = Math.max(1, k - rightSize);
    const high = Math.min(leftSize, k - 1);
    const rightEnd = rightAt + k;
    const hullEnd = k;
    center = Math.min(Math.max(center, low), high);
    let centerBound = (hullLeft[center] as number) + (hullRight[hullEnd - center] as number);
    while (center < high) {
      const next = (hullLeft[center + 1] as number) + (hullRight[hullEnd - center - 1] as number);
      if (!(next < centerBound)) {
        break;
      }
      center++;
      centerBound = next;
    }
    while (center > low) {
      const next = (hullLeft[center - 1] as number) + (hullRight[hullEnd - center + 1] as number);
      if (!(next < centerBound)) {
        break;
      }
      center--;
      centerBound = next;
    }
    let best = center;
    let bestCost = (costs[leftAt + center] as number) + (costs[rightEnd - center] as number);
    let limit = slack(bestCost);
    for (let i = center + 1; i <= high; i++) {
      if ((hullLeft[i] as number) + (hullRight[hullEnd - i] as number) > limit) {
        break;
      }
      const cost = (costs[leftAt + i] as number) + (costs[rightEnd - i] as number);
      if (cost < bestCost) {
        bestCost = cost;
        best = i;
        limit = slack(bestCost);
      }
    }
    for (let i = center - 1; i >= low; i--) {
      if ((hullLeft[i] as number) + (hullRight[hullEnd - i] as number) > limit) {
        break;
      }
      const cost = (costs[leftAt + i] as number) + (costs[rightEnd - i] as number);
      if (cost <= bestCost) {
        bestCost = cost;
        best = i;
        limit = slack(bestCost);
      }
    }
    out[at + k] = bestCost;
    choices[choicesAt + k] = best;
  }
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
    mergeCosts(
      otherCost,
      leftAt,
      ml,
      rightAt,
      mr,
      otherCost,
      at,
      choices,
      choicesAt,
      m,
      arena.hulls,
    );
  } else if (fitsKeys(arena, leftAt, ml) && fitsKeys(arena, rightAt, mr)) {
    const { hulls } = arena;
    hulls.ensureKeys(ml + mr + 2);
    const { keys, merged } = hulls;
    for (let k = 0; k <= ml + mr + 1; k++) {
      keys[k] =
        (protectedCost[leftAt + k] as number) * KEY_SCALE + (otherCost[leftAt + k] as number);
    }
    mergeCosts(keys, 0, ml, ml + 1, mr, merged, 0, choices, choicesAt, m, hulls);
    for (let k = 2; k <= m; k++) {
      const key = merged[k] as number;
      const p = Math.floor(key / KEY_SCALE);
      protectedCost[at + k] = p;
      otherCost[at + k] = key - p * KEY_SCALE;
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
  // The first leaf's words stand for the node's: counting reads no bit past its prefix length.
  const network: BudgetNetwork = {
    family: first.family,
    words: first.words,
    prefixLength: build.common[split] as number,
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
      const { family, words, prefixLength } = node.network as BudgetNetwork;
      result.push({ family, words: prefixBound(family, words, prefixLength, false), prefixLength });
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
  // IPv4 sizes add up exactly as numbers (at most 2^32 in all); IPv6 ones need bigints.
  let ipv4Addresses = 0;
  let ipv6Addresses = 0n;
  let protectedAddresses = 0n;
  const visit = (family: IpFamily, words: AddressWords, prefixLength: number) => {
    const network = {
      family,
      words: [words[0], words[1], words[2], words[3]] as const,
      prefixLength,
    };
    extraRanges.push(network);
    if (family === 4) {
      ipv4Addresses += 2 ** (32 - prefixLength);
    } else {
      ipv6Addresses += 1n << BigInt(128 - prefixLength);
    }
    const inProtected = protectedSet.count(network);
    if (inProtected > 0n) {
      protectedAddresses += inProtected;
    }
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
  return {
    extraAddresses: BigInt(ipv4Addresses) + ipv6Addresses,
    protectedAddresses,
    extraRanges,
  };
}
