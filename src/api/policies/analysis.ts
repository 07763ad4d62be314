/**
 * `GET /v1/accounts/{account_id}/policies/analysis`: static analysis of the desired network
 * policies (stored and derived: private apps, grants) and the account's use of Cloudflare's
 * limits. Mounted before the policy collection so `analysis` is not read as a policy id.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import { desiredPolicies } from "../../domain/explain/view";
import type { DesiredObject, DesiredState, Kind } from "../../domain/model";
import {
  ACCOUNT_LIMITS,
  type AnalysedPolicy,
  analysePolicies,
  type Finding,
  type LimitUse,
} from "../../domain/policies/analysis";
import { structuredPolicy } from "../../domain/policies/import";
import { effectiveQuotas, policySelectorUnits, requestWork } from "../../domain/quotas";
import { createRouter } from "../context";
import { AccountParams, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { loadDesiredNetwork } from "../explain/network";
import { enforceWorkBudget, withinWorkBudget } from "../quotas";
import { SharedRulesObservedAt, sharedRulesObservedAt } from "../schemas/skipped";

const FindingSchema = z
  .object({
    code: z
      .enum([
        "dead-policy",
        "shadowed-policy",
        "allow-partly-blocked",
        "catch-all-above-specific",
        "limit-near",
        "limit-exceeded",
      ])
      .openapi({ description: "Stable finding code." }),
    severity: z.enum(["warning", "error"]),
    message: z.string(),
    policy_id: z.string().optional(),
    related_policy_ids: z.array(z.string()).optional().openapi({
      description:
        "The earlier policies deciding what it matches (shadowed), the earlier blocks (allow partly blocked), or the policies below a catch-all; in precedence order.",
    }),
    resource: z.string().optional(),
    used: z.number().int().optional(),
    limit: z.number().int().optional(),
  })
  .openapi("PolicyFinding");

const AnalysisResult = z
  .object({
    findings: z.array(FindingSchema),
    limits: z.array(
      z.object({ resource: z.string(), used: z.number().int(), limit: z.number().int() }),
    ),
    shared_rules_observed_at: SharedRulesObservedAt,
  })
  .openapi("PolicyAnalysis");

const analysisRoute = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/policies/analysis",
  operationId: "analysePolicies",
  tags: ["Network policies"],
  security,
  summary: "Dead and shadowed policies, conflicting overlaps, misplaced catch-alls and limit use",
  description:
    "Exact over every connection (destination, port, protocol) and identity class the policies tell apart; refused with 422 `limit-exceeded` when its work (atoms × identity classes + atoms × the policies evaluated at them) passes the account's `work_units`.",
  request: { params: AccountParams },
  responses: {
    200: {
      description: "Findings in precedence order, then limits",
      content: { "application/json": { schema: AnalysisResult } },
    },
    ...problemResponses("not-found", "validation-failed", "limit-exceeded"),
  },
});

function count(desired: DesiredState, kind: Kind): number {
  return desired.objects.filter((o: DesiredObject) => o.kind === kind && o.deletedAtMs === null)
    .length;
}

/** The account's use of the Cloudflare limits its desired state counts against. */
function limitsOf(desired: DesiredState, policies: number): LimitUse[] {
  const rules = count(desired, "enrollment_rule");
  return [
    { resource: "network_policies", used: policies, limit: ACCOUNT_LIMITS.network_policies },
    { resource: "tunnels", used: count(desired, "tunnel"), limit: ACCOUNT_LIMITS.tunnels },
    {
      resource: "routes",
      used: count(desired, "tunnel_route") + count(desired, "hostname_route"),
      limit: ACCOUNT_LIMITS.routes,
    },
    { resource: "access_apps", used: rules > 0 ? 1 : 0, limit: ACCOUNT_LIMITS.access_apps },
    { resource: "access_policies", used: rules, limit: ACCOUNT_LIMITS.access_policies },
  ];
}

/**
 * The shared rules as last read from Cloudflare that have a structured form (others cannot be
 * compared and are left out), ahead of every local policy.
 */
function sharedPolicies(desired: DesiredState): AnalysedPolicy[] {
  return (desired.sharedRules ?? []).flatMap((rule) => {
    const spec = structuredPolicy(rule);
    return spec.ok
      ? [
          {
            id: `cloudflare:${rule.cloudflareId}`,
            spec: spec.value,
            sharedFrom: rule.sourceAccount ?? "",
          },
        ]
      : [];
  });
}

function toFindingWire(f: Finding): z.infer<typeof FindingSchema> {
  const head = { code: f.code, severity: f.severity, message: f.message };
  switch (f.code) {
    case "dead-policy":
      return { ...head, policy_id: f.policyId, related_policy_ids: [] };
    case "shadowed-policy":
    case "allow-partly-blocked":
      return { ...head, policy_id: f.policyId, related_policy_ids: f.by };
    case "catch-all-above-specific":
      return { ...head, policy_id: f.policyId, related_policy_ids: f.below };
    case "limit-near":
    case "limit-exceeded":
      return { ...head, resource: f.resource, used: f.used, limit: f.limit };
  }
}

export const policyAnalysisRouter = createRouter().openapi(analysisRoute, async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  const account = await requireAccount(db, account_id);
  const { desired } = await loadDesiredNetwork(db, account_id);
  const policies = desiredPolicies(desired, []);
  // Rendering and parsing every policy for the engine costs what explain's trace does.
  const units = policies.reduce((sum, p) => sum + policySelectorUnits(p.spec), 0);
  enforceWorkBudget(account, requestWork("explain", units, policies.length));
  const limits = limitsOf(desired, policies.length);
  const budget = effectiveQuotas(account.limits).work_units;
  const findings = withinWorkBudget(
    account_id,
    analysePolicies(
      [...sharedPolicies(desired), ...policies.map((p) => ({ id: p.id, spec: p.spec }))],
      limits,
      budget,
    ),
  ).map(toFindingWire);
  return c.json(
    {
      findings,
      limits,
      shared_rules_observed_at: sharedRulesObservedAt(desired.sharedRulesObservedAtMs),
    },
    200,
  );
});
