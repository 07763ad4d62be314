/**
 * Static analysis of an account's network policies in precedence order: policies that can never
 * match because one earlier policy matches everything they match (shadowed), allows partly
 * overridden by an earlier overlapping block, catch-alls placed above other rules, and the use of
 * Cloudflare's account limits. Every finding has a stable code. Conservative by construction: a
 * policy is called shadowed only when one earlier policy provably covers it.
 */
import { intersection, isSubset, parseKnownCidr } from "../cidr";
import type { NetworkPolicySpec, PortRange } from "../model";
import { emailMatches } from "./email-regex";

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

/** One finding. */
export type Finding =
  | { code: "shadowed-policy"; severity: "warning"; policyId: string; by: string; message: string }
  | {
      code: "allow-partly-blocked";
      severity: "warning";
      policyId: string;
      by: string;
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

function prefixes(cidrs: readonly string[]) {
  return cidrs.map(parseKnownCidr);
}

function portsCover(outer: readonly PortRange[], inner: readonly PortRange[]): boolean {
  const merged = [...outer].sort((a, b) => a.from - b.from);
  return inner.every((range) => {
    let next = range.from;
    for (const r of merged) {
      if (r.from <= next && r.to >= next) {
        next = r.to + 1;
      }
      if (next > range.to) {
        return true;
      }
    }
    return next > range.to;
  });
}

function portsOverlap(a: readonly PortRange[], b: readonly PortRange[]): boolean {
  return (
    a.length === 0 ||
    b.length === 0 ||
    a.some((x) => b.some((y) => x.from <= y.to && y.from <= x.to))
  );
}

function everyone(spec: NetworkPolicySpec): boolean {
  return spec.emails.length === 0 && spec.emailRegex === null && (spec.groups ?? []).length === 0;
}

/** Whether policy `a` matches every connection `b` matches (ignoring precedence). */
export function covers(a: NetworkPolicySpec, b: NetworkPolicySpec): boolean {
  const destinations =
    a.destinations.length === 0 ||
    (b.destinations.length > 0 && isSubset(prefixes(b.destinations), prefixes(a.destinations)));
  const ports = a.ports.length === 0 || (b.ports.length > 0 && portsCover(a.ports, b.ports));
  const protocols =
    a.protocols.length === 0 ||
    (b.protocols.length > 0 && b.protocols.every((p) => a.protocols.includes(p)));
  const aPosture = a.devicePostureIds ?? [];
  const bPosture = b.devicePostureIds ?? [];
  const posture =
    aPosture.length === 0 || (bPosture.length > 0 && bPosture.every((id) => aPosture.includes(id)));
  const regex = a.emailRegex;
  const identity =
    everyone(a) ||
    (!everyone(b) &&
      b.emails.every((e) => a.emails.includes(e) || (regex !== null && emailMatches(regex, e))) &&
      (b.emailRegex === null || b.emailRegex === a.emailRegex) &&
      (b.groups ?? []).every((g) => (a.groups ?? []).includes(g)));
  return destinations && ports && protocols && posture && identity;
}

/** Whether some connection could match both policies. */
export function overlaps(a: NetworkPolicySpec, b: NetworkPolicySpec): boolean {
  const destinations =
    a.destinations.length === 0 ||
    b.destinations.length === 0 ||
    intersection(prefixes(a.destinations), prefixes(b.destinations)).length > 0;
  const protocols =
    a.protocols.length === 0 ||
    b.protocols.length === 0 ||
    a.protocols.some((p) => b.protocols.includes(p));
  const sameEmail = (x: NetworkPolicySpec, y: NetworkPolicySpec) =>
    x.emails.some(
      (e) => y.emails.includes(e) || (y.emailRegex !== null && emailMatches(y.emailRegex, e)),
    );
  // Groups and two regexes may always share a user; only disjoint email lists provably do not.
  const identity =
    everyone(a) ||
    everyone(b) ||
    sameEmail(a, b) ||
    sameEmail(b, a) ||
    (a.emailRegex !== null && b.emailRegex !== null) ||
    (a.groups ?? []).length > 0 ||
    (b.groups ?? []).length > 0;
  return destinations && portsOverlap(a.ports, b.ports) && protocols && identity;
}

function isCatchAll(spec: NetworkPolicySpec): boolean {
  return spec.destinations.length === 0 && spec.ports.length === 0 && spec.protocols.length === 0;
}

/**
 * Analyses policies (any order; evaluated shared rules first, then by ascending precedence,
 * disabled ones skipped).
 * Findings per policy, in precedence order: `shadowed-policy` (an earlier enabled policy covers
 * it: it never decides anything), else `allow-partly-blocked` (an allow overlapping an earlier
 * block that does not cover it: part of what it allows is blocked first), and
 * `catch-all-above-specific` for an enabled policy with no destination, port or protocol that
 * has enabled policies after it. Then, per limit, `limit-exceeded` (error) above the limit or
 * `limit-near` (warning) from 80% of it.
 */
export function analysePolicies(
  policies: readonly AnalysedPolicy[],
  limits: readonly LimitUse[],
): Finding[] {
  const tier = (p: AnalysedPolicy) => (p.sharedFrom === undefined ? 1 : 0);
  const ordered = policies
    .filter((p) => p.spec.enabled)
    .sort(
      (a, b) =>
        tier(a) - tier(b) || a.spec.precedence - b.spec.precedence || (a.id < b.id ? -1 : 1),
    );
  const findings: Finding[] = [];
  ordered.forEach((policy, index) => {
    if (policy.sharedFrom !== undefined) {
      return;
    }
    const earlier = ordered.slice(0, index);
    const shadow = earlier.find((e) => covers(e.spec, policy.spec));
    if (shadow !== undefined) {
      findings.push({
        code: "shadowed-policy",
        severity: "warning",
        policyId: policy.id,
        by: shadow.id,
        message: `${named(policy)} never matches: ${named(shadow)} matches everything it does first`,
      });
    } else if (policy.spec.action === "allow") {
      const block = earlier.find((e) => e.spec.action === "block" && overlaps(e.spec, policy.spec));
      if (block !== undefined) {
        findings.push({
          code: "allow-partly-blocked",
          severity: "warning",
          policyId: policy.id,
          by: block.id,
          message: `part of what ${named(policy)} allows is blocked first by ${named(block)}`,
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
        message: `"${policy.spec.name}" (${policy.spec.precedence}) matches any destination, port and protocol and sits above ${below.length} policies`,
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
  return findings;
}
