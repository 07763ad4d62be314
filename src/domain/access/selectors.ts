/**
 * How identity expressions read a class's witness: what each selector names (`collectSelectors`)
 * and whether an identity expression holds for a witness (`identityHolds`, following
 * `evaluateExpression` field by field). A regex is run once per distinct pattern and value.
 */

import { emailMatches } from "../policies/email-regex";
import type { Expr, Predicate, SetItem } from "../policies/expression";

/** What one class of people looks like to the identity selectors. */
export interface Witness {
  /** A named address, or null for an address no policy names. */
  email: string | null;
  /** For an unnamed address: the one regex it matches, else null. */
  regex: string | null;
  /** For an unnamed address: the one `contains` text it holds, else null. */
  contains: string | null;
  /** `identity.groups.name` values. */
  groups: string[];
  /** `device_posture.checks.passed` values. */
  checks: string[];
}

/** Someone no selector names: an unnamed address, no group, no posture check passed. */
export const NOBODY: Witness = { email: null, regex: null, contains: null, groups: [], checks: [] };

/** One `any(…)` or `all(…)` test over a multi-valued field (groups, posture checks). */
export interface ValuesTest {
  quantifier: "any" | "all";
  predicate: Predicate;
}

/** What the identity leaves of a question name. */
export interface Selectors {
  emails: Set<string>;
  regexes: Set<string>;
  contains: Set<string>;
  groups: Set<string>;
  checks: Set<string>;
  /** The distinct tests over `identity.groups.name`, by canonical JSON. */
  groupTests: Map<string, ValuesTest>;
  /** The distinct tests over `device_posture.checks.passed`, by canonical JSON. */
  checkTests: Map<string, ValuesTest>;
}

/** The string values a predicate names (`eq`, `ne`, `in`). */
export function stringsOf(predicate: Predicate): string[] {
  const strings = (items: readonly SetItem[]) =>
    items.flatMap((i) => (i.type === "string" ? [i.value] : []));
  switch (predicate.op) {
    case "eq":
    case "ne":
      return strings([predicate.value]);
    case "in":
      return strings(predicate.items);
    default:
      return [];
  }
}

function collect(expr: Expr, into: Selectors): void {
  switch (expr.kind) {
    case "and":
    case "or":
    case "xor":
      for (const operand of expr.operands) {
        collect(operand, into);
      }
      return;
    case "not":
      collect(expr.operand, into);
      return;
    case "flag":
      return;
    case "compare": {
      const { field, predicate } = expr;
      if (field === "identity.email" && expr.quantifier === null) {
        if (predicate.op === "matches") {
          into.regexes.add(predicate.pattern);
        } else if (predicate.op === "contains") {
          into.contains.add(predicate.value);
        }
        for (const value of stringsOf(predicate)) {
          into.emails.add(value);
        }
      } else if (field === "identity.groups.name" && expr.quantifier !== null) {
        for (const value of stringsOf(predicate)) {
          into.groups.add(value);
        }
        into.groupTests.set(JSON.stringify(expr), { quantifier: expr.quantifier, predicate });
      } else if (field === "device_posture.checks.passed" && expr.quantifier !== null) {
        for (const value of stringsOf(predicate)) {
          into.checks.add(value);
        }
        into.checkTests.set(JSON.stringify(expr), { quantifier: expr.quantifier, predicate });
      }
    }
  }
}

/** The strings of each `in {…}` predicate, built once: the same list is tested for every class. */
const IN_SETS = new WeakMap<Predicate, Set<string>>();

function stringsIn(predicate: Extract<Predicate, { op: "in" }>): Set<string> {
  let set = IN_SETS.get(predicate);
  if (set === undefined) {
    set = new Set(stringsOf(predicate));
    IN_SETS.set(predicate, set);
  }
  return set;
}

/** Whether a predicate holds for one string value (an email, a group name, a check id). */
export function valueHolds(predicate: Predicate, value: string): boolean {
  const isItem = (item: SetItem) => item.type === "string" && item.value === value;
  switch (predicate.op) {
    case "eq":
      return isItem(predicate.value);
    case "ne":
      return !isItem(predicate.value);
    case "in":
      return stringsIn(predicate).has(value);
    case "matches":
      return regexMatches(predicate.pattern, value);
    case "contains":
      return value.includes(predicate.value);
    default:
      return false;
  }
}

/** Regex results by pattern and value: every class is tested on every regex leaf. */
const REGEX_RESULTS = new Map<string, Map<string, boolean>>();

/** Entries kept before the cache starts over, so it stays a few MB at most. */
const REGEX_RESULTS_MAX = 50_000;
let regexResultCount = 0;

function regexMatches(pattern: string, value: string): boolean {
  let byValue = REGEX_RESULTS.get(pattern);
  if (byValue === undefined) {
    byValue = new Map();
    REGEX_RESULTS.set(pattern, byValue);
  }
  let result = byValue.get(value);
  if (result === undefined) {
    if (regexResultCount >= REGEX_RESULTS_MAX) {
      REGEX_RESULTS.clear();
      regexResultCount = 0;
    }
    result = emailMatches(pattern, value);
    byValue.set(value, result);
    regexResultCount++;
  }
  return result;
}

function emailHolds(predicate: Predicate, who: Witness): boolean {
  if (who.email !== null) {
    return valueHolds(predicate, who.email);
  }
  switch (predicate.op) {
    case "ne":
      return true;
    case "matches":
      return predicate.pattern === who.regex;
    case "contains":
      return predicate.value === who.contains;
    default:
      return false;
  }
}

/**
 * Whether an identity expression holds for a class's witness, following `evaluateExpression`:
 * `identity.email`, `identity.groups.name` and `device_posture.checks.passed` are carried,
 * any other field is not (a scalar test is false, `any(…)` over no values false, `all(…)` true).
 */
export function identityHolds(expr: Expr, who: Witness): boolean {
  switch (expr.kind) {
    case "and":
      return expr.operands.every((o) => identityHolds(o, who));
    case "or":
      return expr.operands.some((o) => identityHolds(o, who));
    case "xor":
      return expr.operands.filter((o) => identityHolds(o, who)).length % 2 === 1;
    case "not":
      return !identityHolds(expr.operand, who);
    case "flag":
      return false;
    case "compare": {
      if (expr.quantifier === null) {
        return expr.field === "identity.email" && emailHolds(expr.predicate, who);
      }
      const values =
        expr.field === "identity.groups.name"
          ? who.groups
          : expr.field === "device_posture.checks.passed"
            ? who.checks
            : [];
      const holds = (value: string) => valueHolds(expr.predicate, value);
      return expr.quantifier === "any" ? values.some(holds) : values.every(holds);
    }
  }
}

/** The selectors the leaves `leafIds` of `exprs` name. */
export function collectSelectors(exprs: readonly Expr[], leafIds: readonly number[]): Selectors {
  const selectors: Selectors = {
    emails: new Set(),
    regexes: new Set(),
    contains: new Set(),
    groups: new Set(),
    checks: new Set(),
    groupTests: new Map(),
    checkTests: new Map(),
  };
  for (const leaf of leafIds) {
    collect(exprs[leaf] as Expr, selectors);
  }
  return selectors;
}
