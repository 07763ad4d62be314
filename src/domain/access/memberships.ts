/**
 * The memberships a question's `any(…)` and `all(…)` tests tell apart, for one multi-valued
 * field (`identity.groups.name` or `device_posture.checks.passed`). Memberships combine freely
 * (anyone may be in any set of groups), so the distinct ones are the closure of adding one value
 * at a time: a test's truth over a set is the OR (`any`) or the AND (`all`) of its truth over
 * each value, so a set is known by that vector, and each distinct vector is reached by the
 * smallest set first (breadth first). Values every test reads alike are one value; a value no
 * test reads differently from holding nothing (`any(… in {…})` of a value it does not name) is
 * left out. The enumeration stops past a bound, so it never takes every subset.
 */
import { type ValuesTest, valueHolds } from "./selectors";

/** Stands for any value no selector names (an unnamed group or check). */
export const UNNAMED = "\u0000unnamed";

/** The distinct memberships, and the values each kept value stands for. */
export interface Memberships {
  /** Steps taken: one per test read for a value, and per test of each set built. */
  steps: number;
  /** Each a set of values (named ones, or `UNNAMED`), the empty set first, then by size. */
  sets: string[][];
  /** Per value kept in `sets`, the other named values every test reads alike (sorted). */
  aliases: Map<string, string[]>;
}

function truths(tests: readonly ValuesTest[], value: string): boolean[] {
  return tests.map((t) => valueHolds(t.predicate, value));
}

/**
 * The memberships `tests` tell apart over the values `named` and one unnamed value, or null when
 * there are more than `max` or they take more than `maxSteps` steps.
 */
export function memberships(
  named: readonly string[],
  tests: readonly ValuesTest[],
  max: number,
  maxSteps: number,
): Memberships | null {
  let steps = (named.length + 1) * tests.length;
  if (steps > maxSteps) {
    return null;
  }
  const empty = tests.map((t) => t.quantifier === "all");
  const key = (vector: readonly boolean[]) => vector.map((b) => (b ? "1" : "0")).join("");
  const values: { value: string; vector: boolean[] }[] = [];
  const aliases = new Map<string, string[]>();
  const byVector = new Map<string, string>();
  for (const value of [...[...named].sort(), UNNAMED]) {
    const vector = truths(tests, value);
    // A value that changes no test from the empty set's truth changes nothing when added.
    if (vector.every((b, t) => (tests[t]?.quantifier === "any" ? !b : b))) {
      continue;
    }
    const same = byVector.get(key(vector));
    if (same !== undefined) {
      aliases.get(same)?.push(value);
      continue;
    }
    byVector.set(key(vector), value);
    aliases.set(value, []);
    values.push({ value, vector });
  }
  const sets: string[][] = [[]];
  const vectors: boolean[][] = [empty];
  const seen = new Set([key(empty)]);
  for (let s = 0; s < sets.length; s++) {
    const vector = vectors[s] as boolean[];
    for (const v of values) {
      steps += tests.length;
      if (steps > maxSteps) {
        return null;
      }
      const next = vector.map((b, t) =>
        tests[t]?.quantifier === "any"
          ? b || (v.vector[t] as boolean)
          : b && (v.vector[t] as boolean),
      );
      const k = key(next);
      if (seen.has(k)) {
        continue;
      }
      if (sets.length >= max) {
        return null;
      }
      seen.add(k);
      sets.push([...(sets[s] as string[]), v.value]);
      vectors.push(next);
    }
  }
  return { steps, sets, aliases };
}
