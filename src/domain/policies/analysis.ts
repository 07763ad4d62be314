/**
 * Static analysis of an account's network policies, exact on the access engine
 * (`domain/access`): a policy that matches no connection of any identity class (dead), one that
 * matches some but is never the first match (shadowed, with the earlier policies that decide
 * instead), an allow part of whose connections an earlier block decides (conflicting), catch-alls
 * placed above other rules, and the use of Cloudflare's account limits. Every finding has a
 * stable code.
 */

import type { WorkBudgetExceeded } from "../access/engine";
import { policyUsage } from "../access/usage";
import type { NetworkPolicySpec } from "../model";
import { err, ok, type Result } from "../result";
import { conditionsFromSelectors, type EvaluablePolicy } from "./evaluate";

/** A policy as the analysis sees it. */
export interface AnalysedPolicy {
  id: string;
  spec: NetworkPolicySpec;
  /**
   * For a read-only rule shared from a parent account: that account. Shared rules come before
   * every local policy and get no finding of their own (they can only be changed there).
   */
  sharedFrom?: string;
}

/** `"name" (precedence)`, or `"name" (shared from <account>)` for a shared rule. */
function named(p: AnalysedPolicy): string {
  return `"${p.spec.name}" (${p.sharedFrom === undefined ? p.spec.precedence : `shared from ${p.sharedFrom}`})`;
}

/** One finding; `by` lists policy ids in Gateway order. */
export type Finding =
  | { code: "dead-policy"; severity: "warning"; policyId: string; message: string }
  | {
      code: "shadowed-policy";
      severity: "warning";
      policyId: string;
      by: string[];
      message: string;
    }
  | {
      code: "allow-partly-blocked";
      severity: "warning";
      policyId: string;
      by: string[];
      message: string;
    }
  | {
      code: "catch-all-above-specific";
      severity: "warning";
      policyId: string;
      below: string[];
      message: string;
    }
  | {
      code: "limit-near" | "limit-exceeded";
      severity: "warning" | "error";
      resource: string;
      used: number;
      limit: number;
      message: string;
    };

/** Use of one Cloudflare account limit. */
export interface LimitUse {
  resource: string;
  used: number;
  /** The default limit (reference §9.4). */
  limit: number;
}

/** Cloudflare's default account limits tunnelplane's objects count against. */
export const ACCOUNT_LIMITS = {
  network_policies: 500,
  tunnels: 1000,
  routes: 1000,
  access_apps: 500,
  access_policies: 500,
} as const;

/** Share of a limit (inclusive) from which its use is reported as near. */
const NEAR_LIMIT_SHARE = 0.8;

function isCatchAll(spec: NetworkPolicySpec): boolean {
  return spec.destinations.length === 0 && spec.ports.length === 0 && spec.protocols.length === 0;
}

function toEvaluable(p: AnalysedPolicy): EvaluablePolicy {
  const { name, action, precedence, enabled } = p.spec;
  const shared = p.sharedFrom === undefined ? {} : { sharedFrom: p.sharedFrom };
  return {
    id: p.id,
    name,
    action,
    precedence,
    enabled,
    ...shared,
    ...conditionsFromSelectors(p.spec),
  };
}

/**
 * Analyses policies (any order; evaluated shared rules first, then by ascending precedence,
 * disabled ones skipped; shared rules get no findings of their own), exact
 * over every connection and identity class (see `policyUsage`). Findings per policy, in
 * precedence order: `dead-policy` (matches nothing), else `shadowed-policy` (matches, never
 * decides; `by` the earlier policies deciding its connections), else `allow-partly-blocked`
 * (an allow deciding some connections while earlier blocks decide others it matches; `by` those
 * blocks); and `catch-all-above-specific` for an enabled policy with no destination, port or
 * protocol that has enabled policies after it. Then, per limit, `limit-exceeded` (error) above
 * the limit or `limit-near` (warning) from 80% of it.
 * Errors: `work-budget-exceeded` when the engine's work (see `classesWithin`) passes `budget` work units.
 */
export function analysePolicies(
  policies: readonly AnalysedPolicy[],
  limits: readonly LimitUse[],
  budget: number,
): Result<Finding[], WorkBudgetExceeded> {
  const tier = (p: AnalysedPolicy) => (p.sharedFrom === undefined ? 1 : 0);
  const ordered = policies
    .filter((p) => p.spec.enabled)
    .sort(
      (a, b) =>
        tier(a) - tier(b) || a.spec.precedence - b.spec.precedence || (a.id < b.id ? -1 : 1),
    );
  const answer = policyUsage(ordered.map(toEvaluable), budget);
  if (!answer.ok) {
    return err(answer.error);
  }
  const usage = new Map(answer.value.usage.map((u) => [u.id, u]));
  const byId = new Map(ordered.map((p) => [p.id, p]));
  const names = (ids: readonly string[]) =>
    ids.map((id) => {
      const policy = byId.get(id);
      return policy === undefined ? id : named(policy);
    });
  const findings: Finding[] = [];
  ordered.forEach((policy, index) => {
    if (policy.sharedFrom !== undefined) {
      return;
    }
    const use = usage.get(policy.id);
    const self = named(policy);
    if (use !== undefined && !use.matches) {
      findings.push({
        code: "dead-policy",
        severity: "warning",
        policyId: policy.id,
        message: `${self} matches no connection`,
      });
    } else if (use !== undefined && !use.decides) {
      const verb = use.overriddenBy.length === 1 ? "matches" : "match";
      findings.push({
        code: "shadowed-policy",
        severity: "warning",
        policyId: policy.id,
        by: use.overriddenBy,
        message: `${self} never matches: ${names(use.overriddenBy).join(", ")} ${verb} everything it does first`,
      });
    } else if (use !== undefined && policy.spec.action === "allow") {
      const blocks = use.overriddenBy.filter((id) => byId.get(id)?.spec.action === "block");
      if (blocks.length > 0) {
        findings.push({
          code: "allow-partly-blocked",
          severity: "warning",
          policyId: policy.id,
          by: blocks,
          message: `part of what ${self} allows is blocked first by ${names(blocks).join(", ")}`,
        });
      }
    }
    const below = ordered.slice(index + 1);
    if (isCatchAll(policy.spec) && below.length > 0) {
      findings.push({
        code: "catch-all-above-specific",
        severity: "warning",
        policyId: policy.id,
        below: below.map((p) => p.id),
        message: `${self} matches any destination, port and protocol and sits above ${below.length} policies`,
      });
    }
  });
  for (const use of limits) {
    if (use.used > use.limit) {
      findings.push({
        code: "limit-exceeded",
        severity: "error",
        resource: use.resource,
        used: use.used,
        limit: use.limit,
        message: `${use.used} ${use.resource} exceed Cloudflare's limit of ${use.limit}`,
      });
    } else if (use.used >= use.limit * NEAR_LIMIT_SHARE) {
      findings.push({
        code: "limit-near",
        severity: "warning",
        resource: use.resource,
        used: use.used,
        limit: use.limit,
        message: `${use.used} of Cloudflare's ${use.limit} ${use.resource} are used`,
      });
    }
  }
  return ok(findings);
}
