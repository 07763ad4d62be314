/**
 * Sets of integers as sorted, disjoint, non-adjacent inclusive intervals: the port dimension of
 * the access engine (1..65535). The same normal form as the address sets of `cidr/ranges.ts`,
 * on numbers instead of bigints, so every set has one representation.
 */

/** An inclusive interval `from..to` of integers, `from <= to`. */
export interface Interval {
  from: number;
  to: number;
}

/** A normalised set: sorted by `from`, disjoint, never adjacent. */
export type IntervalSet = readonly Interval[];

/** Sorts and merges any intervals into an `IntervalSet`; empty intervals are dropped. */
export function toIntervalSet(items: readonly Interval[]): Interval[] {
  const sorted = items.filter((i) => i.from <= i.to).sort((a, b) => a.from - b.from);
  const merged: Interval[] = [];
  for (const item of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && item.from <= last.to + 1) {
      if (item.to > last.to) {
        merged[merged.length - 1] = { from: last.from, to: item.to };
      }
    } else {
      merged.push({ from: item.from, to: item.to });
    }
  }
  return merged;
}

/** Every integer in `a` or `b`. */
export function unionIntervals(a: IntervalSet, b: IntervalSet): Interval[] {
  return toIntervalSet([...a, ...b]);
}

/** Every integer in both normalised sets. */
export function intersectIntervals(a: IntervalSet, b: IntervalSet): Interval[] {
  const result: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as Interval;
    const y = b[j] as Interval;
    const from = Math.max(x.from, y.from);
    const to = Math.min(x.to, y.to);
    if (from <= to) {
      result.push({ from, to });
    }
    if (x.to < y.to) {
      i++;
    } else {
      j++;
    }
  }
  return result;
}

/** The integers of `universe` (one interval) that are not in the normalised set `a`. */
export function complementIntervals(a: IntervalSet, universe: Interval): Interval[] {
  const result: Interval[] = [];
  let next = universe.from;
  for (const x of a) {
    if (x.to < universe.from || x.from > universe.to) {
      continue;
    }
    if (x.from > next) {
      result.push({ from: next, to: x.from - 1 });
    }
    next = Math.max(next, x.to + 1);
  }
  if (next <= universe.to) {
    result.push({ from: next, to: universe.to });
  }
  return result;
}

/** Whether the normalised set holds `value` (binary search). */
export function intervalsContain(set: IntervalSet, value: number): boolean {
  let low = 0;
  let high = set.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const x = set[middle] as Interval;
    if (value < x.from) {
      high = middle - 1;
    } else if (value > x.to) {
      low = middle + 1;
    } else {
      return true;
    }
  }
  return false;
}
