/**
 * The grant lifecycle as a pure state machine: `requested -> approved -> active -> expired`, or
 * `rejected`, `cancelled`, `revoked`. Every transition names who may trigger it and the time
 * condition it needs; anything else is a typed error, so the API can answer 409 with the reason.
 */
import { err, ok, type Result } from "../result";
import type { GrantState } from "./grant";

/** What happens to a grant. */
export type GrantEvent = "approve" | "reject" | "cancel" | "activate" | "revoke" | "expire";

/**
 * Who triggers an event: an `operator` (a person deciding), the `requester` (the ticketing system
 * that asked), or `system` (an approval rule, the clock).
 */
export type GrantActorRole = "operator" | "requester" | "system";

/** One row of the transition table. */
export interface GrantTransitionRule {
  from: GrantState;
  event: GrantEvent;
  to: GrantState;
  /** Roles allowed to trigger it. */
  by: readonly GrantActorRole[];
}

/**
 * Every allowed transition. Time conditions (see `transitionGrant`): `approve` and `activate`
 * only before `endsAtMs`, `activate` only from `startsAtMs`, `expire` only from `endsAtMs`.
 * A requested grant nobody decided on expires at its end like any other.
 */
export const GRANT_TRANSITIONS: readonly GrantTransitionRule[] = [
  { from: "requested", event: "approve", to: "approved", by: ["operator", "system"] },
  { from: "requested", event: "reject", to: "rejected", by: ["operator", "system"] },
  { from: "requested", event: "cancel", to: "cancelled", by: ["requester", "operator"] },
  { from: "requested", event: "expire", to: "expired", by: ["system"] },
  { from: "approved", event: "activate", to: "active", by: ["system"] },
  { from: "approved", event: "cancel", to: "cancelled", by: ["requester", "operator"] },
  { from: "approved", event: "revoke", to: "revoked", by: ["operator"] },
  { from: "approved", event: "expire", to: "expired", by: ["system"] },
  { from: "active", event: "revoke", to: "revoked", by: ["operator"] },
  { from: "active", event: "expire", to: "expired", by: ["system"] },
];

/** States no event leaves. */
export const FINAL_GRANT_STATES: readonly GrantState[] = [
  "expired",
  "rejected",
  "cancelled",
  "revoked",
];

/**
 * Why a transition was refused.
 * - `invalid-transition`: no transition for `event` from `from` (e.g. approving an expired grant).
 * - `forbidden-actor`: the transition exists but `role` may not trigger it.
 * - `too-early`: `activate` before `startsAtMs` or `expire` before `endsAtMs` (`atMs` is when).
 * - `too-late`: `approve` or `activate` at or after `endsAtMs`.
 */
export type GrantTransitionError =
  | { code: "invalid-transition"; from: GrantState; event: GrantEvent }
  | { code: "forbidden-actor"; from: GrantState; event: GrantEvent; role: GrantActorRole }
  | { code: "too-early"; event: GrantEvent; atMs: number }
  | { code: "too-late"; event: GrantEvent; endsAtMs: number };

/** The time window of the grant the guards look at. */
export interface GrantWindow {
  state: GrantState;
  /** Inclusive start, epoch ms. */
  startsAtMs: number;
  /** Exclusive end, epoch ms. */
  endsAtMs: number;
}

/**
 * The state after `event`, triggered by `role` at `nowMs`.
 * @returns the next state, or `invalid-transition`, `forbidden-actor`, `too-early`, `too-late`.
 */
export function transitionGrant(
  grant: GrantWindow,
  event: GrantEvent,
  role: GrantActorRole,
  nowMs: number,
): Result<GrantState, GrantTransitionError> {
  const rule = GRANT_TRANSITIONS.find((r) => r.from === grant.state && r.event === event);
  if (rule === undefined) {
    return err({ code: "invalid-transition", from: grant.state, event });
  }
  if (!rule.by.includes(role)) {
    return err({ code: "forbidden-actor", from: grant.state, event, role });
  }
  if ((event === "approve" || event === "activate") && nowMs >= grant.endsAtMs) {
    return err({ code: "too-late", event, endsAtMs: grant.endsAtMs });
  }
  if (event === "activate" && nowMs < grant.startsAtMs) {
    return err({ code: "too-early", event, atMs: grant.startsAtMs });
  }
  if (event === "expire" && nowMs < grant.endsAtMs) {
    return err({ code: "too-early", event, atMs: grant.endsAtMs });
  }
  return ok(rule.to);
}

/**
 * The transitions the clock makes at `nowMs`: `expire` when the end has passed (from requested,
 * approved or active), else `activate` when an approved grant's start has come. Null when none.
 */
export function dueClockEvent(grant: GrantWindow, nowMs: number): "expire" | "activate" | null {
  if (FINAL_GRANT_STATES.includes(grant.state)) {
    return null;
  }
  if (nowMs >= grant.endsAtMs) {
    return "expire";
  }
  if (grant.state === "approved" && nowMs >= grant.startsAtMs) {
    return "activate";
  }
  return null;
}

/**
 * When the clock next changes the grant (epoch ms), or null: the end for a live grant, the start
 * for an approved one that has not started.
 */
export function nextClockEventAtMs(grant: GrantWindow, nowMs: number): number | null {
  if (FINAL_GRANT_STATES.includes(grant.state)) {
    return null;
  }
  if (grant.state === "approved" && nowMs < grant.startsAtMs) {
    return grant.startsAtMs;
  }
  return grant.endsAtMs;
}
