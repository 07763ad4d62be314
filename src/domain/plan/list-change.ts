/**
 * List changes as counts and the first few items, for plans and run records: a split tunnel list
 * runs to thousands of entries, and a record of every entry on both sides of every change would
 * grow with the routes rather than with what changed.
 */
import type { FieldDiff } from "./actions";

/** How many added and removed items a summary names (the counts cover all of them). */
export const LIST_CHANGE_FIRST_N = 10;

/** A change between two lists, by counts and the first items of each side. */
export interface ListChange<T> {
  /** Items before and after. */
  beforeCount: number;
  afterCount: number;
  /** Items of `after` that `before` lacks, and the first `firstN` of them in `after`'s order. */
  addedCount: number;
  firstAdded: T[];
  /** Items of `before` that `after` lacks, and the first `firstN` of them in `before`'s order. */
  removedCount: number;
  firstRemoved: T[];
}

/**
 * What changed from `before` to `after`, items compared by `keyOf` (default: their JSON, so an
 * entry whose description changed is one removed and one added). Duplicates count as one item.
 * O(before + after).
 */
export function summariseListChange<T>(
  before: readonly T[],
  after: readonly T[],
  firstN: number = LIST_CHANGE_FIRST_N,
  keyOf: (item: T) => string = (item) => JSON.stringify(item),
): ListChange<T> {
  const beforeKeys = new Set(before.map(keyOf));
  const afterKeys = new Set(after.map(keyOf));
  const added = after.filter((item) => !beforeKeys.has(keyOf(item)));
  const removed = before.filter((item) => !afterKeys.has(keyOf(item)));
  return {
    beforeCount: before.length,
    afterCount: after.length,
    addedCount: added.length,
    firstAdded: added.slice(0, firstN),
    removedCount: removed.length,
    firstRemoved: removed.slice(0, firstN),
  };
}

/**
 * `diff` with its `entries` field (a split tunnel list) told as a `ListChange` on the desired
 * side and the observed count on the observed side; other fields unchanged.
 */
export function summariseEntriesDiff(diff: readonly FieldDiff[]): FieldDiff[] {
  return diff.map((field) => {
    if (
      field.field !== "entries" ||
      !Array.isArray(field.observed) ||
      !Array.isArray(field.desired)
    ) {
      return field;
    }
    const change = summariseListChange(field.observed, field.desired);
    return { field: "entries", observed: { count: change.beforeCount }, desired: change };
  });
}

/**
 * A rendered value with a long `entries` list cut to its count and first `firstN` entries, for
 * plan answers (the apply step keeps the whole value); any other value as it is.
 */
export function summariseRendered(value: unknown, firstN: number = LIST_CHANGE_FIRST_N): unknown {
  if (typeof value !== "object" || value === null || !("entries" in value)) {
    return value;
  }
  const { entries } = value as { entries: unknown };
  if (!Array.isArray(entries) || entries.length <= firstN) {
    return value;
  }
  return { ...value, entries: entries.slice(0, firstN), entriesCount: entries.length };
}
