/**
 * Approval rules for grants. An `auto_approve` rule approves at once a request that lies inside
 * it; `hard_limit` rules bound what may be asked at all: when an account has any, a request
 * outside every one of them is rejected with the reasons. Anything else waits for an operator.
 */

import { parseKnownCidr } from "../cidr/known";
import { isSubset } from "../cidr/ranges";
import { compileRegex } from "../policies/email-regex";
import type { GrantRequest } from "./grant";

/** What a rule does with a request inside it. */
export type ApprovalRuleEffect = "auto_approve" | "hard_limit";

/** One approval rule of an account. Empty lists and nulls mean "no limit" on that criterion. */
export interface GrantApprovalRule {
  id: string;
  name: string;
  effect: ApprovalRuleEffect;
  /** Longest grant the rule admits, seconds (inclusive), or null. */
  maxDurationS: number | null;
  /** Canonical CIDRs every destination must lie inside (their union), or empty for any. */
  allowedDestinations: string[];
  /** Requester systems admitted (lower case), or empty for any. */
  allowedSystems: string[];
  /**
   * RE2-syntax regex the whole subject email must match (an implicit `^…$`: approval is no place
   * for Gateway's unanchored search), or null.
   */
  subjectEmailPattern: string | null;
}

/** One way a request falls outside a rule. */
export type RuleMiss =
  | { code: "duration-exceeds"; durationS: number; maxDurationS: number }
  | { code: "destination-not-allowed"; destinations: string[] }
  | { code: "system-not-allowed"; system: string }
  | { code: "subject-not-allowed"; subjectEmail: string };

/** A rule and how the request misses it. */
export interface RuleMisses {
  ruleId: string;
  ruleName: string;
  misses: RuleMiss[];
}

/**
 * The decision for a request.
 * - `approve`: inside the auto-approve rule `ruleId` (and inside a hard limit, if any exist).
 * - `reject`: outside every hard limit; `outside` says how it misses each one.
 * - `manual`: an operator decides; `outside` says how it misses each auto-approve rule.
 */
export type ApprovalDecision =
  | { decision: "approve"; ruleId: string }
  | { decision: "reject"; outside: RuleMisses[] }
  | { decision: "manual"; outside: RuleMisses[] };

/** How `request` misses `rule` (empty when it lies inside). Patterns must compile. */
export function ruleMisses(rule: GrantApprovalRule, request: GrantRequest): RuleMiss[] {
  const misses: RuleMiss[] = [];
  const durationS = Math.ceil((request.endsAtMs - request.startsAtMs) / 1000);
  if (rule.maxDurationS !== null && durationS > rule.maxDurationS) {
    misses.push({ code: "duration-exceeds", durationS, maxDurationS: rule.maxDurationS });
  }
  if (rule.allowedDestinations.length > 0) {
    const allowed = rule.allowedDestinations.map(parseKnownCidr);
    const outside = request.destinations.filter((d) => !isSubset([parseKnownCidr(d)], allowed));
    if (outside.length > 0) {
      misses.push({ code: "destination-not-allowed", destinations: outside });
    }
  }
  if (rule.allowedSystems.length > 0 && !rule.allowedSystems.includes(request.ticket.system)) {
    misses.push({ code: "system-not-allowed", system: request.ticket.system });
  }
  if (
    rule.subjectEmailPattern !== null &&
    !compileRegex(rule.subjectEmailPattern).matches(request.subjectEmail)
  ) {
    misses.push({ code: "subject-not-allowed", subjectEmail: request.subjectEmail });
  }
  return misses;
}

/**
 * Decides a new request against the account's rules (in the order given; the first auto-approve
 * rule that admits it is named). Hard limits are checked first: a request they refuse is rejected
 * even when an auto-approve rule would admit it.
 */
export function decideApproval(
  request: GrantRequest,
  rules: readonly GrantApprovalRule[],
): ApprovalDecision {
  const evaluate = (rule: GrantApprovalRule): RuleMisses => ({
    ruleId: rule.id,
    ruleName: rule.name,
    misses: ruleMisses(rule, request),
  });
  const limits = rules.filter((r) => r.effect === "hard_limit").map(evaluate);
  if (limits.length > 0 && limits.every((l) => l.misses.length > 0)) {
    return { decision: "reject", outside: limits };
  }
  const autos = rules.filter((r) => r.effect === "auto_approve").map(evaluate);
  const inside = autos.find((a) => a.misses.length === 0);
  if (inside !== undefined) {
    return { decision: "approve", ruleId: inside.ruleId };
  }
  return { decision: "manual", outside: autos };
}

/** One sentence about a miss, for the grant's decision reason. */
export function describeRuleMiss(miss: RuleMiss): string {
  switch (miss.code) {
    case "duration-exceeds":
      return `lasts ${miss.durationS} s, more than ${miss.maxDurationS} s`;
    case "destination-not-allowed":
      return `${miss.destinations.join(", ")} outside the allowed destinations`;
    case "system-not-allowed":
      return `requester system ${miss.system} is not allowed`;
    case "subject-not-allowed":
      return `${miss.subjectEmail} does not match the subject pattern`;
  }
}

/** One line per rule: `rule "<name>": <miss>; <miss>`, joined with ` | `. */
export function describeOutside(outside: readonly RuleMisses[]): string {
  return outside
    .map((r) => `rule "${r.ruleName}": ${r.misses.map(describeRuleMiss).join("; ")}`)
    .join(" | ");
}
