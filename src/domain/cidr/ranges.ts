/**
 * Set algebra over IP addresses of both families. A set is a list of inclusive ranges, sorted
 * (IPv4 before IPv6, then by first address), disjoint and never adjacent, so every set has one
 * representation and the operations are linear merges over bigint bounds.
 */
import { type CoverVisitor, forEachCoverPrefix } from "./cover";
import { parseKnownCidr } from "./known";
import { formatNetwork, hostMask, type IpFamily, type Prefix } from "./parse";
import { valueOfWords, wordsOfValue } from "./words";

/** An inclusive range of addresses of one family: `first` .. `last`, `first <= last`. */
export interface AddressRange {
  /** 4 or 6. */
  family: IpFamily;
  /** First address in the range (inclusive). */
  first: bigint;
  /** Last address in the range (inclusive). */
  last: bigint;
}

/**
 * A normalised address set: sorted by family (4 first) then `first`, disjoint, non-adjacent.
 * Every function below returns this form and accepts any list of prefixes or ranges.
 */
export type AddressSet = readonly AddressRange[];

/** What the set operations accept: prefixes and ranges, in any order, overlapping or not. */
export type AddressSetInput = readonly (Prefix | AddressRange)[];

/** The inclusive range a prefix covers. */
export function rangeOfPrefix(prefix: Prefix): AddressRange {
  return {
    family: prefix.family,
    first: prefix.address,
    last: prefix.address | hostMask(prefix.family, prefix.prefixLength),
  };
}

function toRange(item: Prefix | AddressRange): AddressRange {
  return "prefixLength" in item ? rangeOfPrefix(item) : item;
}

/** The larger of two bigints (`Math.max` does not take bigints). */
function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The smaller of two bigints. */
function minOf(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function compareRanges(a: AddressRange, b: AddressRange): number {
  if (a.family !== b.family) {
    return a.family - b.family;
  }
  return a.first < b.first ? -1 : a.first > b.first ? 1 : 0;
}

/** Whether `b` may follow `a` in a normalised set (later, with a gap of at least one address). */
function isStrictlyAfter(a: AddressRange, b: AddressRange): boolean {
  return a.family < b.family || (a.family === b.family && a.last + 1n < b.first);
}

/**
 * Normalises any list of prefixes or ranges into an `AddressSet` (sorted, merged). Input that is
 * already normalised is returned as a copy without sorting, so chained operations stay linear.
 */
export function toAddressSet(input: AddressSetInput): AddressRange[] {
  const ranges = input.map(toRange);
  let isNormal = true;
  for (let i = 1; i < ranges.length && isNormal; i++) {
    const previous = ranges[i - 1];
    const current = ranges[i];
    isNormal =
      previous !== undefined && current !== undefined && isStrictlyAfter(previous, current);
  }
  if (isNormal) {
    return ranges;
  }
  ranges.sort(compareRanges);
  const merged: AddressRange[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.family === range.family && range.first <= last.last + 1n) {
      if (range.last > last.last) {
        merged[merged.length - 1] = { family: last.family, first: last.first, last: range.last };
      }
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** Every address in `a` or in `b`. */
export function union(a: AddressSetInput, b: AddressSetInput): AddressRange[] {
  return toAddressSet([...toAddressSet(a), ...toAddressSet(b)]);
}

/** Every address in both `a` and `b`. Linear in the sizes of the normalised inputs. */
export function intersection(a: AddressSetInput, b: AddressSetInput): AddressRange[] {
  const left = toAddressSet(a);
  const right = toAddressSet(b);
  const result: AddressRange[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const x = left[i] as AddressRange;
    const y = right[j] as AddressRange;
    if (x.family !== y.family) {
      if (x.family < y.family) {
        i++;
      } else {
        j++;
      }
      continue;
    }
    const first = maxOf(x.first, y.first);
    const last = minOf(x.last, y.last);
    if (first <= last) {
      result.push({ family: x.family, first, last });
    }
    if (x.last < y.last) {
      i++;
    } else {
      j++;
    }
  }
  return result;
}

/** Every address in `a` that is not in `b`. Linear in the sizes of the normalised inputs. */
export function difference(a: AddressSetInput, b: AddressSetInput): AddressRange[] {
  const left = toAddressSet(a);
  const right = toAddressSet(b);
  const result: AddressRange[] = [];
  let j = 0;
  for (const range of left) {
    while (j < right.length) {
      const y = right[j] as AddressRange;
      if (y.family > range.family || (y.family === range.family && y.last >= range.first)) {
        break;
      }
      j++;
    }
    let next = range.first;
    // Removed ranges ending inside `range` are done with; one that reaches past it may also cut
    // the next range of `left`, so the scan restarts from `j` each time.
    for (let k = j; k < right.length; k++) {
      const y = right[k] as AddressRange;
      if (y.family !== range.family || y.first > range.last) {
        break;
      }
      if (y.first > next) {
        result.push({ family: range.family, first: next, last: y.first - 1n });
      }
      if (y.last + 1n > next) {
        next = y.last + 1n;
      }
      if (y.last >= range.last) {
        break;
      }
    }
    if (next <= range.last) {
      result.push({ family: range.family, first: next, last: range.last });
    }
  }
  return result;
}

/**
 * The part of a normalised set that lies inside `range`: a binary search for the first range
 * reaching `range.first`, then a scan. O(log n + k) for k results, so callers can clip one large
 * set many times. `set` must be normalised (as every function here returns it).
 */
export function intersectRange(set: AddressSet, range: AddressRange): AddressRange[] {
  let low = 0;
  let high = set.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const candidate = set[middle] as AddressRange;
    if (
      candidate.family < range.family ||
      (candidate.family === range.family && candidate.last < range.first)
    ) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  const result: AddressRange[] = [];
  for (let i = low; i < set.length; i++) {
    const candidate = set[i] as AddressRange;
    if (candidate.family !== range.family || candidate.first > range.last) {
      break;
    }
    result.push({
      family: range.family,
      first: maxOf(candidate.first, range.first),
      last: minOf(candidate.last, range.last),
    });
  }
  return result;
}

/** Whether every address of `inner` is in `outer`. */
export function isSubset(inner: AddressSetInput, outer: AddressSetInput): boolean {
  return difference(inner, outer).length === 0;
}

/**
 * The fewest prefixes whose union is exactly the set, sorted (IPv4 before IPv6, then by
 * address). Each range is split greedily into the largest aligned block that starts at its
 * first free address; for prefixes (a laminar family) that cover is the unique minimum, and
 * ranges of a normalised set never share a prefix because a gap separates them.
 * Covers the whole space exactly: `0.0.0.0/0`, `::/0`, single `/32` and `/128` hosts.
 * @see https://www.rfc-editor.org/rfc/rfc4632#section-3.1
 */
export function minimalCover(set: AddressSetInput): Prefix[] {
  const prefixes: Prefix[] = [];
  forEachSetCoverPrefix(set, (family, words, prefixLength) => {
    prefixes.push({ family, address: valueOfWords(words), prefixLength });
  });
  return prefixes;
}

/** Calls `visit` for each prefix of `minimalCover(set)`, in its order, as address words. */
function forEachSetCoverPrefix(set: AddressSetInput, visit: CoverVisitor): void {
  for (const range of toAddressSet(set)) {
    forEachCoverPrefix(range.family, wordsOfValue(range.first), wordsOfValue(range.last), visit);
  }
}

/**
 * `minimalCover` as canonical CIDR text, `formatPrefix` of each prefix in the same order; the
 * text is printed from the cover's words, so no bigint is built for any prefix.
 */
export function minimalCoverText(set: AddressSetInput): string[] {
  const networks: string[] = [];
  forEachSetCoverPrefix(set, (family, words, prefixLength) => {
    networks.push(formatNetwork(family, words, prefixLength));
  });
  return networks;
}

/**
 * `from` minus `remove`, as the canonical minimal cover (see `minimalCover`).
 * Both lists hold valid CIDRs or bare addresses with host bits clear; anything else is a broken
 * invariant and throws `RangeError`.
 * @example subtractPrefixes(["172.16.0.0/12"], ["172.31.0.0/16"])
 *   // ["172.16.0.0/13", "172.24.0.0/14", "172.28.0.0/15", "172.30.0.0/16"]
 */
export function subtractPrefixes(from: readonly string[], remove: readonly string[]): string[] {
  return minimalCoverText(difference(from.map(parseKnownCidr), remove.map(parseKnownCidr)));
}

/** The union of CIDRs as the canonical minimal cover. Throws `RangeError` as `subtractPrefixes`. */
export function unionPrefixes(networks: readonly string[]): string[] {
  return minimalCoverText(networks.map(parseKnownCidr));
}

/** The common addresses of two CIDR lists as the canonical minimal cover. Throws as above. */
export function intersectPrefixes(a: readonly string[], b: readonly string[]): string[] {
  return minimalCoverText(intersection(a.map(parseKnownCidr), b.map(parseKnownCidr)));
}
