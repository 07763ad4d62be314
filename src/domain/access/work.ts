/**
 * The work of a question: atoms × identity classes + the evaluations and cuts its partition
 * counted. Classes are enumerated under the same budget: every candidate combination is tested
 * on every leaf, so the candidates may not pass what the budget leaves per atom.
 */
import { err, ok, type Result } from "../result";
import { classTable } from "./class-cache";
import type { ClassTable } from "./classes";
import type { IdentityLeaves } from "./compile";
import type { Partition, WorkBudgetExceeded } from "./engine";

/** A question's identity classes and its work units. */
export interface ClassedPartition {
  table: ClassTable;
  /** atoms × classes + evaluations. */
  work: number;
}

/**
 * The classes of the partition's identity leaves and the question's work, atoms × classes +
 * evaluations. Errors: `work-budget-exceeded` when atoms × candidate classes + evaluations
 * passes `budget` (`work` is that count when the enumeration stopped).
 */
export function classesWithin(
  p: Partition,
  leaves: IdentityLeaves,
  budget: number,
): Result<ClassedPartition, WorkBudgetExceeded> {
  const max =
    p.atoms === 0 ? Number.POSITIVE_INFINITY : Math.floor((budget - p.evaluations) / p.atoms);
  const table = classTable(leaves, p.leafIds, Math.max(0, max));
  if (!table.ok) {
    return err({
      code: "work-budget-exceeded",
      budget,
      work: p.atoms * table.error + p.evaluations,
    });
  }
  return ok({ table: table.value, work: p.atoms * table.value.classes.length + p.evaluations });
}
