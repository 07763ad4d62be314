/**
 * Reading a Gateway rule found in Cloudflare (made in the dashboard, by another tool, by hand)
 * back into a structured network policy, when and only when the structured form says exactly
 * what the rule's expressions say. Anything else is refused with the reason, never approximated.
 */
import type { NetworkPolicySpec, ObservedNetworkPolicy } from "../model";
import { readMarker } from "../plan/ownership";
import { err, ok, type Result } from "../result";
import { type Expr, formatExpression } from "./expression";
import { parseExpression } from "./parse";
import { toSelectors } from "./read-selectors";

/** Why a rule cannot be imported without loss. */
export interface ImportError {
  code: "not-importable";
  /** One sentence naming the part of the rule that has no structured form. */
  reason: string;
}

function refuse(reason: string): Result<never, ImportError> {
  return err({ code: "not-importable", reason });
}

/** The posture check ids of `any(device_posture.checks.passed[*] in {…})` (or `==`), else null. */
function postureIds(expr: Expr | null): string[] | null {
  if (expr === null) {
    return [];
  }
  if (
    expr.kind !== "compare" ||
    expr.field !== "device_posture.checks.passed" ||
    expr.quantifier !== "any"
  ) {
    return null;
  }
  const { predicate } = expr;
  const items =
    predicate.op === "in" ? predicate.items : predicate.op === "eq" ? [predicate.value] : null;
  if (items === null || items.length === 0) {
    return null;
  }
  const ids = items.map((item) => (item.type === "string" ? item.value : null));
  return ids.every((id): id is string => id !== null) ? [...new Set(ids)].sort() : null;
}

/** How much of a refused expression a reason quotes: rules made by scripts can be huge. */
const QUOTED_EXPRESSION_MAX = 60;

function quoteStart(expression: string): string {
  return expression.length > QUOTED_EXPRESSION_MAX
    ? `${JSON.stringify(expression.slice(0, QUOTED_EXPRESSION_MAX))}…`
    : JSON.stringify(expression);
}

/**
 * The structured policy equivalent to an observed Gateway rule. Requires an l4 rule with action
 * allow or block whose `traffic` and `identity` map onto selectors exactly (see `toSelectors`)
 * and whose `device_posture` is empty or one `any(device_posture.checks.passed[*] in {…})`.
 * The description keeps the rule's text (without a marker); name, precedence and enabled are
 * taken as they are.
 *
 * Errors: `not-importable` with the reason (a read-only rule shared from a parent account, wrong
 * filter or action, an expression that does not parse, or one the structured form cannot say:
 * `not`, other fields, two regexes, …).
 */
export function importNetworkPolicy(
  rule: ObservedNetworkPolicy,
): Result<NetworkPolicySpec, ImportError> {
  if (rule.readOnly === true) {
    // Adopting it would write the marker into a rule Cloudflare keeps read-only here.
    return refuse(
      `the rule is shared read-only from account ${rule.sourceAccount ?? "(unknown)"} and can only be changed there`,
    );
  }
  return structuredPolicy(rule);
}

/**
 * The structured form of a Gateway rule, shared rules included (for analysis; they are never
 * imported). Errors as importNetworkPolicy's but the read-only refusal.
 */
export function structuredPolicy(
  rule: ObservedNetworkPolicy,
): Result<NetworkPolicySpec, ImportError> {
  if (rule.filters.length !== 1 || rule.filters[0] !== "l4") {
    return refuse(`the rule filters ${JSON.stringify(rule.filters)}, not ["l4"]`);
  }
  if (rule.action !== "allow" && rule.action !== "block") {
    return refuse(`action ${rule.action} has no structured form (allow or block)`);
  }
  const selectors = toSelectors(rule.traffic, rule.identity);
  if (!selectors.ok) {
    const e = selectors.error;
    return refuse(
      e.code === "invalid-expression"
        ? `the expression ${quoteStart(e.expression)} does not parse at offset ${e.offset}: ${e.message}`
        : `the ${e.part} expression has no structured form: ${e.reason}`,
    );
  }
  const posture = parseExpression(rule.devicePosture);
  if (!posture.ok) {
    return refuse(`the device posture expression does not parse: ${posture.error.message}`);
  }
  const ids = postureIds(posture.value);
  if (ids === null) {
    return refuse(
      `the device posture expression has no structured form: ${formatExpression(posture.value as Expr)}`,
    );
  }
  return ok({
    name: rule.name,
    action: rule.action,
    precedence: rule.precedence,
    enabled: rule.enabled,
    ...selectors.value,
    devicePostureIds: ids,
    description: readMarker(rule.description).text,
  });
}
