/**
 * Cutting one dimension of the connection space into atoms: a region is cut at every bound of
 * the sets given (where a set starts, and just past where it ends), so inside an atom every set
 * either holds everywhere or nowhere.
 */
import type { AddressRange } from "../cidr/ranges";
import { intersection } from "../cidr/ranges";
import { type Interval, intersectIntervals } from "./intervals";

/** The port atoms of `region` (normalised intervals) at the bounds of `sets`, ascending. */
export function cutPorts(
  region: readonly Interval[],
  sets: readonly (readonly Interval[])[],
): Interval[] {
  const atoms: Interval[] = [];
  for (const range of region) {
    const cuts = new Set<number>([range.from]);
    for (const set of sets) {
      for (const piece of intersectIntervals(set, [range])) {
        cuts.add(piece.from);
        if (piece.to < range.to) {
          cuts.add(piece.to + 1);
        }
      }
    }
    const sorted = [...cuts].sort((a, b) => a - b);
    sorted.forEach((from, i) => {
      atoms.push({ from, to: (sorted[i + 1] ?? range.to + 1) - 1 });
    });
  }
  return atoms;
}

function compareBigints(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The destination atoms of `region` (a normalised address set) at the bounds of `sets`, ascending. */
export function cutAddresses(
  region: readonly AddressRange[],
  sets: readonly (readonly AddressRange[])[],
): AddressRange[] {
  const atoms: AddressRange[] = [];
  for (const range of region) {
    const cuts = new Set<bigint>([range.first]);
    for (const set of sets) {
      for (const piece of intersection(set, [range])) {
        cuts.add(piece.first);
        if (piece.last < range.last) {
          cuts.add(piece.last + 1n);
        }
      }
    }
    const sorted = [...cuts].sort(compareBigints);
    sorted.forEach((first, i) => {
      const next = sorted[i + 1];
      atoms.push({
        family: range.family,
        first,
        last: next === undefined ? range.last : next - 1n,
      });
    });
  }
  return atoms;
}
