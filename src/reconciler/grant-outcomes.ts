/**
 * Maps a run's outcome for derived grant policies back onto the grants: the policy's Cloudflare
 * id, precedence and sync state, and, once an active grant's policy is in Cloudflare, the path
 * check "after activation".
 */

import type { Db } from "../db/client";
import {
  type GrantPolicyUpdate,
  type GrantRecord,
  listGrantsWithPolicies,
  recordGrantCheck,
  recordGrantPolicyUpdates,
} from "../db/grants.repo";
import type { RunRecord } from "../db/runs.repo";
import type { DesiredState } from "../domain/model";
import type { Plan } from "../domain/plan/actions";
import { checkGrantInDesired } from "./grant-check";

function policyUpdate(
  grant: GrantRecord,
  isActive: boolean,
  plan: Plan,
  run: RunRecord,
): GrantPolicyUpdate {
  const acts = run.actions.filter((a) => a.kind === "network_policy" && a.key === grant.id);
  const written = plan.actions.find(
    (a) => a.kind === "network_policy" && a.key === grant.id && a.op !== "delete",
  );
  const bound = plan.bindings.find((b) => b.kind === "network_policy" && b.key === grant.id);
  const base = { id: grant.id, version: grant.version, isSynced: false };
  const failed = acts.find((a) => a.outcome === "failed");
  const precedence =
    written !== undefined && "desired" in written && "precedence" in written.desired
      ? written.desired.precedence
      : grant.policyPrecedence;
  if (failed !== undefined) {
    return {
      ...base,
      syncState: "error",
      cloudflareId: grant.policyCloudflareId,
      precedence: grant.policyPrecedence,
      lastError: failed.error,
    };
  }
  const done = acts.every((a) => a.outcome === "applied");
  if (!isActive) {
    return done
      ? { ...base, syncState: "none", cloudflareId: null, precedence: null, lastError: null }
      : {
          ...base,
          syncState: "pending",
          cloudflareId: grant.policyCloudflareId,
          precedence,
          lastError: null,
        };
  }
  const warned = plan.warnings.find((w) => w.key === grant.id);
  if (warned !== undefined) {
    return {
      ...base,
      syncState: "error",
      cloudflareId: null,
      precedence: null,
      lastError: warned.message,
    };
  }
  if (!done) {
    return {
      ...base,
      syncState: acts.some((a) => a.isDrift) ? "drifted" : "pending",
      cloudflareId: grant.policyCloudflareId,
      precedence: grant.policyPrecedence,
      lastError: null,
    };
  }
  const created = acts.find((a) => a.op !== "delete" && a.cloudflareId !== null)?.cloudflareId;
  return {
    ...base,
    syncState: "synced",
    cloudflareId: created ?? bound?.cloudflareId ?? null,
    precedence,
    lastError: null,
    isSynced: true,
  };
}

/**
 * Records the policy status of every grant that has or should have a policy, then checks the
 * path of each active grant whose policy is synced but not yet checked since its activation.
 */
export async function recordGrantRunOutcomes(
  db: Db,
  accountId: string,
  desired: DesiredState,
  plan: Plan,
  run: RunRecord,
  nowMs: number,
): Promise<void> {
  const activeIds = new Set((desired.grants ?? []).map((g) => g.id));
  const grants = await listGrantsWithPolicies(db, accountId);
  const updates = grants.map((g) => policyUpdate(g, activeIds.has(g.id), plan, run));
  await recordGrantPolicyUpdates(db, accountId, updates);
  for (const grant of grants) {
    const update = updates.find((u) => u.id === grant.id);
    const activatedAtMs = grant.activatedAtMs ?? 0;
    const checkedSince =
      grant.check?.phase === "after-activation" && grant.check.checkedAtMs >= activatedAtMs;
    if (activeIds.has(grant.id) && update?.syncState === "synced" && !checkedSince) {
      await recordGrantCheck(
        db,
        accountId,
        grant.id,
        checkGrantInDesired(
          desired,
          { ...grant, policyPrecedence: update.precedence },
          "after-activation",
          nowMs,
        ),
      );
    }
  }
}
