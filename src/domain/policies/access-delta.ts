/**
 * What one evaluation of a list of policies costs, in selector units. The access delta itself is
 * exact and lives in `domain/access` (`accessDelta`); the explain and assertion budgets still
 * count evaluations of whole lists with this measure.
 */
import type { EvaluablePolicy } from "./evaluate";
import type { Expr } from "./expression";

function expressionSize(expr: Expr | null | undefined): number {
  if (expr === null || expr === undefined) {
    return 0;
  }
  switch (expr.kind) {
    case "and":
    case "or":
    case "xor":
      return expr.operands.reduce((sum, operand) => sum + expressionSize(operand), 1);
    case "not":
      return 1 + expressionSize(expr.operand);
    case "flag":
      return 1;
    case "compare":
      return 1 + (expr.predicate.op === "in" ? expr.predicate.items.length : 0);
  }
}

/**
 * The selector units one evaluation of `policies` costs: 1 per policy plus 1 per operator and
 * list item of its expressions (each destination, port, email, group, regex).
 */
export function evaluationUnits(policies: readonly EvaluablePolicy[]): number {
  return policies.reduce(
    (sum, p) =>
      sum +
      1 +
      expressionSize(p.traffic) +
      expressionSize(p.identity) +
      expressionSize(p.devicePosture),
    0,
  );
}
