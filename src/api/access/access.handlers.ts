/** who-can-reach and reachable-by over the desired policies. */
import { createDb } from "../../db/client";
import {
  reachableBy as reachableByPerson,
  whoCanReach as whoCanReachTarget,
} from "../../domain/access/reach";
import { parseKnownCidr } from "../../domain/cidr/known";
import { rangeOfPrefix } from "../../domain/cidr/ranges";
import { desiredPolicies, toEvaluable } from "../../domain/explain/view";
import { effectiveQuotas, policySelectorUnits, requestWork } from "../../domain/quotas";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { loadDesiredNetwork } from "../explain/network";
import { canonical } from "../fields";
import { enforceWorkBudget, withinWorkBudget } from "../quotas";
import type * as endpoints from "./access.endpoints";
import { toAllowedWire } from "./access.schemas";

async function loadPolicies(env: Env, accountId: string) {
  const db = createDb(env.DB);
  const account = await requireAccount(db, accountId);
  const { desired } = await loadDesiredNetwork(db, accountId);
  const stored = desiredPolicies(desired, []);
  // Rendering and parsing every policy for the engine costs what explain's trace does.
  const units = stored.reduce((sum, p) => sum + policySelectorUnits(p.spec), 0);
  enforceWorkBudget(account, requestWork("explain", units, stored.length));
  return {
    budget: effectiveQuotas(account.limits).work_units,
    policies: stored.map(toEvaluable),
    grantIds: new Set((desired.grants ?? []).map((g) => g.id)),
  };
}

export const whoCanReach: AppHandler<typeof endpoints.whoCanReach> = async (c) => {
  const { account_id } = c.req.valid("param");
  const body = c.req.valid("json");
  const { budget, policies, grantIds } = await loadPolicies(c.env, account_id);
  const destination = canonical(body.cidr ?? body.destination_ip ?? "");
  const answer = withinWorkBudget(
    account_id,
    whoCanReachTarget(
      policies,
      {
        destination: rangeOfPrefix(parseKnownCidr(destination)),
        port: body.port ?? undefined,
        protocol: body.protocol ?? undefined,
      },
      budget,
    ),
  );
  return c.json(
    {
      destination,
      port: body.port,
      protocol: body.protocol,
      allowed: answer.allowed.map((a) => ({
        identities: a.identities,
        ...toAllowedWire(a, grantIds),
      })),
      atoms: answer.atoms,
      classes: answer.classes.length,
      work_units: answer.work,
    },
    200,
  );
};

export const reachableBy: AppHandler<typeof endpoints.reachableBy> = async (c) => {
  const { account_id } = c.req.valid("param");
  const body = c.req.valid("json");
  const { budget, policies, grantIds } = await loadPolicies(c.env, account_id);
  const email = body.email.toLowerCase();
  const answer = withinWorkBudget(
    account_id,
    reachableByPerson(
      policies,
      { email, groups: body.groups, postureChecks: body.device_posture_checks },
      budget,
    ),
  );
  return c.json(
    {
      email,
      groups: body.groups,
      allowed: answer.allowed.map((a) => toAllowedWire(a, grantIds)),
      atoms: answer.atoms,
      classes: answer.classes.length,
      work_units: answer.work,
    },
    200,
  );
};
