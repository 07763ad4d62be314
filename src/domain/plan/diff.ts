/** Field-by-field comparison of two rendered values of the same kind. */
import type { FieldDiff } from "./actions";

/**
 * Lists the top-level fields whose values differ (deep, order-sensitive comparison: callers
 * normalise order first). Fields are reported in the key order of `desired`.
 */
export function diffFields<T extends object>(observed: T, desired: T): FieldDiff[] {
  const diffs: FieldDiff[] = [];
  for (const field of Object.keys(desired) as (keyof T & string)[]) {
    if (JSON.stringify(observed[field]) !== JSON.stringify(desired[field])) {
      diffs.push({ field, observed: observed[field], desired: desired[field] });
    }
  }
  return diffs;
}
