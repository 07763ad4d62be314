/** Turns a run's actions and their results into run-record entries and per-object statuses. */
import type { RunAction, RunRecord } from "../db/runs.repo";
import type { SyncUpdate } from "../db/sync-status.repo";
import type { DesiredObject, DesiredState } from "../domain/model";
import type { Action, Plan } from "../domain/plan/actions";
import { privateAppOf } from "../domain/plan/private-app-policies";

/** The run-record form of an action with its outcome. */
export function toRunAction(
  action: Action,
  outcome: RunAction["outcome"],
  cloudflareId: string | null,
  error: string | null,
): RunAction {
  return {
    op: action.op,
    kind: action.kind,
    key: action.key,
    reason: action.reason,
    diff: action.diff,
    isDrift: action.isDrift,
    outcome,
    cloudflareId: cloudflareId ?? (action.op === "create" ? null : action.cloudflareId),
    error,
  };
}

function statusOf(
  object: DesiredObject,
  acts: RunAction[],
  boundId: string | null,
): Omit<SyncUpdate, "kind" | "id" | "version"> {
  const failed = acts.find((a) => a.outcome === "failed");
  if (failed !== undefined) {
    return { syncState: "error", lastError: failed.error, isSynced: false };
  }
  if (acts.every((a) => a.outcome === "applied")) {
    if (object.deletedAtMs !== null) {
      return { syncState: "synced", isSynced: true, purge: true };
    }
    // Sent in dependency order, a private app's block may precede its allow; the app reports
    // its first allow (`<app>-allow-0` sorts first among its policies' keys).
    const written = acts
      .filter((a) => a.op !== "delete")
      .sort((a, b) => a.key.localeCompare(b.key))[0];
    return {
      syncState: "synced",
      isSynced: true,
      lastError: null,
      cloudflareId: written?.cloudflareId ?? boundId,
    };
  }
  return { syncState: acts.some((a) => a.isDrift) ? "drifted" : "pending", isSynced: false };
}

/**
 * The status keys an action or binding counts for: its own, and for a policy derived from a
 * private app, the app's as well (the app has no Cloudflare object of its own).
 */
function ownersOf(kind: string, key: string): string[] {
  const app = kind === "network_policy" ? privateAppOf(key) : null;
  return app === null ? [`${kind}/${key}`] : [`${kind}/${key}`, `private_app/${app}`];
}

/**
 * Statuses for every desired object after a run: synced when no action was needed or all applied,
 * error when one failed, drifted or pending when actions were only planned or deferred.
 * Tombstones whose Cloudflare object is gone are purged.
 */
export function syncUpdatesFor(
  desired: DesiredState,
  plan: Plan,
  run: RunRecord,
  tunnelHealth: Map<string, string>,
): SyncUpdate[] {
  const actsByKey = new Map<string, RunAction[]>();
  for (const act of run.actions) {
    for (const k of ownersOf(act.kind, act.key)) {
      actsByKey.set(k, [...(actsByKey.get(k) ?? []), act]);
    }
  }
  const bound = new Map<string, string>();
  for (const b of plan.bindings) {
    for (const k of ownersOf(b.kind, b.key)) {
      // A private app reports the Cloudflare id of its first derived policy (its first allow).
      if (!bound.has(k)) {
        bound.set(k, b.cloudflareId);
      }
    }
  }
  return desired.objects.map((object) => {
    const k = `${object.kind}/${object.id}`;
    const boundId =
      bound.get(k) ??
      (object.kind === "split_tunnel" || object.kind === "proxy_settings" ? object.id : null);
    const status = statusOf(object, actsByKey.get(k) ?? [], boundId);
    const cloudflareId = status.cloudflareId ?? boundId;
    const health =
      object.kind === "tunnel" && cloudflareId !== null
        ? tunnelHealth.get(cloudflareId)
        : undefined;
    return {
      kind: object.kind,
      id: object.id,
      version: object.version,
      ...status,
      ...(status.purge || status.syncState === "error" ? {} : { cloudflareId }),
      ...(health === undefined ? {} : { observed: { health } }),
    };
  });
}
