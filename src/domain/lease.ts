/**
 * Lease arithmetic for the per-account lock. A lease is held by one run at a time, expires unless
 * renewed (so a crashed run never wedges an account), and every grant bumps a monotonically
 * increasing fencing token so a run that lost its lease can tell before it writes.
 */

/** Persisted lock state. `token` is the last fencing token issued (0 when none yet). */
export interface LeaseState {
  token: number;
  /** Run id of the holder, or null when free. */
  holder: string | null;
  /** When the current lease ends, epoch ms (exclusive). Meaningless when `holder` is null. */
  expiresAtMs: number;
}

/** Result of asking for the lease. */
export type AcquireResult =
  | { status: "acquired"; token: number; expiresAtMs: number }
  | { status: "held"; holder: string; retryAfterMs: number };

/** Result of renewing or checking a lease. */
export type LeaseCheck = { status: "valid"; expiresAtMs: number } | { status: "lost" };

/** The state of a lock that was never taken. */
export const FREE_LEASE: LeaseState = { token: 0, holder: null, expiresAtMs: 0 };

function isLive(state: LeaseState, nowMs: number): boolean {
  return state.holder !== null && nowMs < state.expiresAtMs;
}

/**
 * Grants the lease to `holder` for `ttlMs` unless another holder has a live lease.
 * @returns the next state (unchanged when held) and the outcome; `retryAfterMs` >= 1.
 */
export function acquireLease(
  state: LeaseState,
  holder: string,
  nowMs: number,
  ttlMs: number,
): { next: LeaseState; result: AcquireResult } {
  if (isLive(state, nowMs) && state.holder !== null) {
    const retryAfterMs = Math.max(1, state.expiresAtMs - nowMs);
    return { next: state, result: { status: "held", holder: state.holder, retryAfterMs } };
  }
  const next = { token: state.token + 1, holder, expiresAtMs: nowMs + ttlMs };
  return {
    next,
    result: { status: "acquired", token: next.token, expiresAtMs: next.expiresAtMs },
  };
}

/** Extends a live lease whose fencing token is `token` to `nowMs + ttlMs`; else it is lost. */
export function renewLease(
  state: LeaseState,
  token: number,
  nowMs: number,
  ttlMs: number,
): { next: LeaseState; result: LeaseCheck } {
  if (state.token !== token || !isLive(state, nowMs)) {
    return { next: state, result: { status: "lost" } };
  }
  const next = { ...state, expiresAtMs: nowMs + ttlMs };
  return { next, result: { status: "valid", expiresAtMs: next.expiresAtMs } };
}

/** Whether `token` still names the live lease (the check a run makes before each write batch). */
export function checkLease(state: LeaseState, token: number, nowMs: number): LeaseCheck {
  return state.token === token && isLive(state, nowMs)
    ? { status: "valid", expiresAtMs: state.expiresAtMs }
    : { status: "lost" };
}

/** Frees the lease if `token` is current; a stale token changes nothing. */
export function releaseLease(state: LeaseState, token: number): LeaseState {
  return state.token === token ? { ...state, holder: null, expiresAtMs: 0 } : state;
}
