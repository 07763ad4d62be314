/**
 * Moves grants through their lifecycle: the domain state machine decides, the store writes the
 * new state with its audit event and callback delivery in one batch, then raises its event. The clock's transitions
 * (activate at `starts_at`, expire at `ends_at`) run here too, for the alarm and for every run.
 */

import {
  type GrantDecision,
  type GrantRecord,
  type GrantTransitionWrite,
  listLiveGrants,
  type StoredGrantCheck,
  writeGrantTransition,
} from "../db/grants.repo";
import type { GrantState } from "../domain/grants/grant";
import {
  dueClockEvent,
  type GrantActorRole,
  type GrantEvent,
  type GrantTransitionError,
  transitionGrant,
} from "../domain/grants/lifecycle";
import { err, ok, type Result } from "../domain/result";
import { type EventSink, emitEvents } from "./events/emit";
import { grantEvent } from "./events/grant-events";
import { grantCallbackPayload } from "./grant-callbacks";

/** Who is acting: a role for the state machine and a name for the audit trail. */
export interface GrantActor {
  role: GrantActorRole;
  /** e.g. `key:<name>`, `access:<email>`, `rule:<id>`, `clock`. */
  name: string;
}

/** Extra fields a transition may set. */
export interface TransitionExtras {
  decision?: GrantDecision;
  check?: StoredGrantCheck;
}

/** Refusals: the state machine's, or `conflict` when the grant changed meanwhile. */
export type TransitionFailure = GrantTransitionError | { code: "conflict" };

/**
 * Applies `event` to `grant` at `nowMs` if the state machine allows it.
 * @returns the updated grant, or the refusal.
 */
export async function applyGrantEvent(
  sink: EventSink,
  grant: GrantRecord,
  event: GrantEvent,
  actor: GrantActor,
  reason: string | null,
  nowMs: number,
  extras: TransitionExtras = {},
): Promise<Result<GrantRecord, TransitionFailure>> {
  const next = transitionGrant(grant, event, actor.role, nowMs);
  if (!next.ok) {
    return next;
  }
  const write: GrantTransitionWrite = {
    state: next.value,
    ...extras,
    ...(event === "activate" ? { activatedAtMs: nowMs, policySyncState: "pending" } : {}),
    ...(isEnd(next.value) ? { endedAtMs: nowMs } : {}),
  };
  const after: GrantRecord = {
    ...grant,
    ...write,
    decision: write.decision ?? grant.decision,
    check: write.check ?? grant.check,
    version: grant.version + 1,
    updatedAtMs: nowMs,
  };
  const updated = await writeGrantTransition(
    sink.db,
    grant,
    write,
    {
      id: versionedId(grant.id, after.version),
      grantId: grant.id,
      event,
      fromState: grant.state,
      toState: next.value,
      actor: actor.name,
      reason,
      atMs: nowMs,
    },
    grant.callbackUrl === null
      ? null
      : {
          id: versionedId(grant.id, after.version),
          event: next.value,
          url: grant.callbackUrl,
          payloadJson: grantCallbackPayload(after, nowMs),
        },
    nowMs,
  );
  if (updated === undefined) {
    return err({ code: "conflict" });
  }
  await emitEvents(
    sink,
    grant.accountId,
    [grantEvent(updated, versionedId(grant.id, updated.version), nowMs)],
    nowMs,
  );
  return ok(updated);
}

/**
 * The id of the audit event and the delivery a transition makes: the grant id and the version
 * it produced, zero-padded, so both sort in the order the transitions happened even within one
 * millisecond.
 */
export function versionedId(grantId: string, version: number): string {
  return `${grantId}.${String(version).padStart(6, "0")}`;
}

function isEnd(state: GrantState): boolean {
  return state === "expired" || state === "revoked" || state === "cancelled";
}

const CLOCK: GrantActor = { role: "system", name: "clock" };

/**
 * Makes the clock's due transitions in the account: grants past `ends_at` expire, approved
 * grants whose `starts_at` has come become active. Idempotent: a second call at the same time
 * changes nothing.
 * @returns the grants that changed, after the change.
 */
export async function applyDueClockEvents(
  sink: EventSink,
  accountId: string,
  nowMs: number,
): Promise<GrantRecord[]> {
  const changed: GrantRecord[] = [];
  for (const grant of await listLiveGrants(sink.db, accountId)) {
    const event = dueClockEvent(grant, nowMs);
    if (event === null) {
      continue;
    }
    const reason = event === "expire" ? "ends_at reached" : "starts_at reached";
    const result = await applyGrantEvent(sink, grant, event, CLOCK, reason, nowMs);
    if (result.ok) {
      changed.push(result.value);
    }
  }
  return changed;
}
