/**
 * The work of a question: atoms × identity classes + the steps of enumerating the classes + the
 * evaluations and cuts its partition counted. Classes are enumerated under the same budget (see `ClassBound`): neither atoms ×
 * candidate classes nor the steps of enumerating them may pass what the partition leaves.
 */
import { err, ok, type Result } from "../result";
import { classTable } from "./class-cache";
import type { ClassTable } from "./classes";
import type { IdentityLeaves } from "./compile";
import type { Partition, WorkBudgetExceeded } from "./engine";

/** A question's identity classes and its work units. */
export interface ClassedPartition {
  table: ClassTable;
  /** atoms × classes + enumeration steps + evaluations. */
  work: number;
}

/**
 * The classes of the partition's identity leaves and the question's work, atoms × classes +
 * enumeration steps + evaluations. Errors: `work-budget-exceeded` when atoms × candidate classes, or the steps of
 * enumerating them, plus evaluations pass `budget` (`work`: that count when it stopped).
 */
export function classesWithin(
  p: Partition,
  leaves: IdentityLeaves,
  budget: number,
): Result<ClassedPartition, WorkBudgetExceeded> {
  const room = Math.max(0, budget - p.evaluations);
  const table = classTable(leaves, p.leafIds, { perCandidate: p.atoms, room });
  if (!table.ok) {
    return err({ code: "work-budget-exceeded", budget, work: table.error + p.evaluations });
  }
  const { classes, steps } = table.value;
  return ok({ table: table.value, work: p.atoms * classes.length + steps + p.evaluations });
}
