/**
 * The apply step of a run: sends the chosen actions in plan order through the adapter registry.
 * The lease is renewed while it works (see leaseKeeper) and its fencing token checked before each
 * batch (a run of actions of one kind and direction), so a run that lost its lease stops before
 * its next write. The results come back as a value.
 */
import type Cloudflare from "cloudflare";
import type { ApplyContext } from "../cloudflare/apply-context";
import { BudgetExhaustedError, CallsHeldError } from "../cloudflare/client";
import { MissingPermissionError, toUpstreamError } from "../cloudflare/errors";
import { applyAction, isManagedAction } from "../cloudflare/registry";
import { recordCreateRequested } from "../db/sync-status.repo";
import type { Kind } from "../domain/model";
import type { Action, Binding } from "../domain/plan/actions";
import {
  describeTokenProblem,
  KIND_PERMISSION_AREA,
  neededPermission,
  type PermissionArea,
} from "../domain/token-permissions";
import type { ReconcileDeps } from "./deps";
import { type RetryPolicy, withRetry } from "./retry";

/** What became of one sent action. */
export interface AppliedAction {
  outcome: "applied" | "failed";
  /** The Cloudflare id created, changed or deleted; null when the action failed. */
  cloudflareId: string | null;
  /** Cloudflare's error, or null. */
  error: string | null;
}

/**
 * Why the apply step stopped: all actions sent, the lease lost, the subrequest budget spent, or
 * the account's calls held (a 429, the API budget share spent).
 */
export type ApplyStop = "completed" | "lease-lost" | "budget-spent" | "held";

/** The apply step's value: the result of each action sent (the rest were not sent). */
export interface ApplyResult {
  results: Map<Action, AppliedAction>;
  stop: ApplyStop;
  /** When stop is `budget-spent`: which budget is spent (the run's or the invocation's). */
  spent?: string;
  /** When stop is `held`: when calls may go out again (epoch ms) and why; else null. */
  hold: { retryAtMs: number; reason: string } | null;
  /**
   * Every refusal for a missing token permission met, observation's included, one per area;
   * absent when none.
   */
  refused?: MissingPermissionError[];
}

/** The run's hold on the account and its Cloudflare client. */
export interface ApplyTarget {
  client: Cloudflare;
  accountId: string;
  /** The run's fencing token. */
  token: number;
  retry: RetryPolicy;
  /** Ids of objects already in Cloudflare, from the plan. */
  bindings: Binding[];
  /** The account's default virtual network as observed, if any. */
  defaultVirtualNetworkId: string | undefined;
  /** Refusals for missing token permissions the observation met: their areas are not written. */
  refused: MissingPermissionError[];
}

function batchOf(action: Action): string {
  return `${action.op === "delete" ? "delete" : "write"}/${action.kind}`;
}

/**
 * The lease heartbeat: renews the run's lease (which also checks its fencing token) at the start
 * of every write batch, and within a batch once a third of the TTL has passed since the last
 * renewal, so a long batch never outlives its lease.
 * @returns a function answering whether the run still holds the lease.
 */
function leaseKeeper(deps: ReconcileDeps, target: ApplyTarget) {
  let renewedAtMs = Number.NEGATIVE_INFINITY;
  return async (force: boolean): Promise<boolean> => {
    const nowMs = deps.nowMs();
    if (!force && nowMs - renewedAtMs < deps.config.leaseTtlMs / 3) {
      return true;
    }
    const lease = await deps.lock.renew(target.accountId, target.token, deps.config.leaseTtlMs);
    renewedAtMs = nowMs;
    return lease.status === "valid";
  };
}

/**
 * Sends `actions` in order. A failed create leaves its dependants failing too (their reference
 * cannot be resolved); the next run retries them. Once Cloudflare refused a call for a missing
 * token permission (in observation or here), the rest of that permission's actions fail unsent. Creates are not retried on 5xx (the response
 * may be lost; the next run finds the object by its marker instead of duplicating it).
 */
export async function applyPlan(
  deps: ReconcileDeps,
  target: ApplyTarget,
  actions: Action[],
): Promise<ApplyResult> {
  const ids = new Map(target.bindings.map((b) => [`${b.kind}/${b.key}`, b.cloudflareId]));
  const ctx: ApplyContext = {
    client: target.client,
    accountId: target.accountId,
    defaultVirtualNetworkId: target.defaultVirtualNetworkId,
    resolve(kind: Kind, key: string) {
      const id = ids.get(`${kind}/${key}`);
      if (id === undefined) {
        throw new Error(`${kind} ${key} does not exist in Cloudflare yet`);
      }
      return id;
    },
  };
  const results = new Map<Action, AppliedAction>();
  const refused = new Map<PermissionArea, MissingPermissionError>();
  for (const refusal of target.refused) {
    if (!refused.has(refusal.area)) {
      refused.set(refusal.area, refusal);
    }
  }
  const stop = (why: ApplyStop, hold: ApplyResult["hold"] = null): ApplyResult => ({
    results,
    stop: why,
    hold,
    refused: [...refused.values()],
  });
  const holdsLease = leaseKeeper(deps, target);
  let batch: string | undefined;
  for (const action of actions) {
    const newBatch = batchOf(action) !== batch;
    batch = batchOf(action);
    if (!(await holdsLease(newBatch))) {
      return stop("lease-lost");
    }
    if (!isManagedAction(action)) {
      throw new Error(`${action.kind} has no Cloudflare object of its own`);
    }
    // The token cannot write this kind: sending the call would only be refused again.
    const area = KIND_PERMISSION_AREA[action.kind];
    const refusal = area === null ? undefined : refused.get(area);
    if (refusal !== undefined) {
      // A write needs the area's Edit permission, whichever call was refused.
      const permission = neededPermission(refusal.area, true).label;
      results.set(action, {
        outcome: "failed",
        cloudflareId: null,
        error: `not sent: ${describeTokenProblem({ permission, request: refusal.request })}`,
      });
      continue;
    }
    if (action.op === "create" && action.kind === "tunnel") {
      // Recorded before the call: if the response is lost, the next run adopts the tunnel by name.
      await recordCreateRequested(deps.db, target.accountId, action.kind, action.key, deps.nowMs());
    }
    try {
      const policy =
        action.op === "create" ? { ...target.retry, retryServerErrors: false } : target.retry;
      const cloudflareId = await withRetry(policy, () => applyAction(ctx, action));
      ids.set(`${action.kind}/${action.key}`, cloudflareId);
      results.set(action, { outcome: "applied", cloudflareId, error: null });
    } catch (error) {
      const failure = toUpstreamError(error);
      if (failure instanceof BudgetExhaustedError) {
        return { ...stop("budget-spent"), spent: failure.message };
      }
      if (failure instanceof CallsHeldError) {
        return stop("held", { retryAtMs: failure.retryAtMs, reason: failure.message });
      }
      if (failure instanceof MissingPermissionError && !refused.has(failure.area)) {
        refused.set(failure.area, failure);
      }
      results.set(action, { outcome: "failed", cloudflareId: null, error: failure.message });
    }
  }
  return stop("completed");
}
