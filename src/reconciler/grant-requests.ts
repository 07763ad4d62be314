/**
 * What happens when a grant is requested or decided through the API: approval rules and the
 * path check decide a new request; operators approve, reject, revoke, cancel; then the grant is
 * settled at once (a started grant's policy is created and an ended one's removed by a reconcile
 * run) rather than at the next cron tick. Callbacks are only recorded here: the account's alarm,
 * armed for now, sends them after the response.
 */
import { listAllApprovalRules } from "../db/grant-approval-rules.repo";
import {
  type GrantDecision,
  type GrantRecord,
  insertGrant,
  loadDesiredWithGrants,
} from "../db/grants.repo";
import { decideApproval, describeOutside } from "../domain/grants/approval";
import type { GrantRequest } from "../domain/grants/grant";
import type { GrantEvent } from "../domain/grants/lifecycle";
import { describePathProblem } from "../domain/grants/path-check";
import type { Result } from "../domain/result";
import type { ReconcileDeps } from "./deps";
import { emitEvents } from "./events/emit";
import { grantEvent } from "./events/grant-events";
import { grantCallbackPayload } from "./grant-callbacks";
import { checkGrantInDesired } from "./grant-check";
import { runGrantTimers } from "./grant-timers";
import {
  applyGrantEvent,
  type GrantActor,
  type TransitionFailure,
  versionedId,
} from "./grant-transitions";

/** A new request as the API validated it. */
export interface NewGrant extends GrantRequest {
  callbackUrl: string | null;
  extendsGrantId: string | null;
}

/**
 * Activates what is due, reconciles when a grant's policy is behind its state, and arms the
 * account's alarm for the next grant timer (now, when a callback is due).
 */
export async function settleGrants(deps: ReconcileDeps, accountId: string): Promise<void> {
  const outcome = await runGrantTimers(deps, accountId, "api");
  if (outcome.nextAtMs !== null) {
    await deps.lock.armGrantAlarm(accountId, outcome.nextAtMs);
  }
}

/**
 * Records a new grant and decides it: outside every hard limit it is rejected; inside an
 * auto-approve rule and with a path that works it is approved (and active if it has started);
 * a grant whose path does not work is left `requested` with the reasons, for an operator.
 * @returns the grant after settling.
 */
export async function requestGrant(
  deps: ReconcileDeps,
  accountId: string,
  id: string,
  input: NewGrant,
  requestedBy: string,
): Promise<GrantRecord> {
  const nowMs = deps.nowMs();
  const [rules, desired] = await Promise.all([
    listAllApprovalRules(deps.db, accountId),
    loadDesiredWithGrants(deps.db, accountId, nowMs),
  ]);
  const draft: GrantRecord = {
    ...input,
    accountId,
    id,
    version: 1,
    state: "requested",
    requestedBy,
    decision: null,
    check: null,
    activatedAtMs: null,
    endedAtMs: null,
    policyPrecedence: null,
    policyCloudflareId: null,
    policySyncState: "none",
    policySyncedVersion: null,
    policyLastError: null,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
  const check = checkGrantInDesired(desired, draft, "before-approval", nowMs);
  const verdict = decideApproval(input, rules);
  const flagged = verdict.decision === "approve" && !check.ok;
  const waiting: GrantDecision | null =
    verdict.decision === "manual"
      ? {
          by: "system",
          ruleId: null,
          reason:
            verdict.outside.length === 0
              ? "no approval rule: waits for an operator"
              : `waits for an operator: ${describeOutside(verdict.outside)}`,
        }
      : flagged
        ? {
            by: "system",
            ruleId: verdict.ruleId,
            reason: `not approved automatically, the grant cannot work: ${check.problems.map(describePathProblem).join("; ")}`,
          }
        : null;
  const grant: GrantRecord = { ...draft, check, decision: waiting };
  await insertGrant(
    deps.db,
    grant,
    [
      {
        id: versionedId(id, 1),
        grantId: id,
        event: "create",
        fromState: null,
        toState: "requested",
        actor: requestedBy,
        reason: input.reason,
        atMs: nowMs,
      },
    ],
    input.callbackUrl === null
      ? []
      : [
          {
            id: versionedId(id, 1),
            event: "requested",
            url: input.callbackUrl,
            payloadJson: grantCallbackPayload(grant, nowMs),
          },
        ],
  );
  await emitEvents(deps, accountId, [grantEvent(grant, versionedId(id, 1), nowMs)], nowMs);
  if (verdict.decision === "reject") {
    const reason = `outside every hard limit: ${describeOutside(verdict.outside)}`;
    await applyGrantEvent(
      deps,
      grant,
      "reject",
      { role: "system", name: "approval-rules" },
      reason,
      nowMs,
      {
        decision: { by: "rule", ruleId: null, reason },
      },
    );
  } else if (verdict.decision === "approve" && !flagged) {
    const rule = rules.find((r) => r.id === verdict.ruleId);
    const reason = `inside approval rule "${rule?.name ?? verdict.ruleId}"`;
    await applyGrantEvent(
      deps,
      grant,
      "approve",
      { role: "system", name: `rule:${verdict.ruleId}` },
      reason,
      nowMs,
      { decision: { by: "rule", ruleId: verdict.ruleId, reason } },
    );
  }
  await settleGrants(deps, accountId);
  return grant;
}

/**
 * An operator's or requester's decision on a grant: approve (with a fresh path check), reject,
 * revoke or cancel; then the grant is settled (a revoked grant's policy is removed at once).
 */
export async function decideGrant(
  deps: ReconcileDeps,
  grant: GrantRecord,
  event: Extract<GrantEvent, "approve" | "reject" | "revoke" | "cancel">,
  actor: GrantActor,
  reason: string | null,
): Promise<Result<GrantRecord, TransitionFailure>> {
  const nowMs = deps.nowMs();
  const check =
    event === "approve"
      ? checkGrantInDesired(
          await loadDesiredWithGrants(deps.db, grant.accountId, nowMs),
          grant,
          "before-approval",
          nowMs,
        )
      : undefined;
  const decision: GrantDecision | undefined =
    event === "approve" || event === "reject"
      ? {
          by: actor.role === "system" ? "system" : "operator",
          ruleId: null,
          reason: reason ?? `${event}d by ${actor.name}`,
        }
      : undefined;
  const result = await applyGrantEvent(deps, grant, event, actor, reason, nowMs, {
    ...(check === undefined ? {} : { check }),
    ...(decision === undefined ? {} : { decision }),
  });
  if (result.ok) {
    await settleGrants(deps, grant.accountId);
  }
  return result;
}
