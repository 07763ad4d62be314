/**
 * The Cloudflare API budget of one account, kept by its AccountLock so it survives invocations.
 * Cloudflare allows 1,200 calls per 5 minutes per user and locks every call of that user out
 * for 5 minutes past it; tunnelplane spends at most a share of that (the rest is the dashboard's
 * and other tools'). Calls are counted in slots of a tenth of the window, and a slot is counted
 * whole while any part of it lies in the window, so no window ever holds more than the share.
 * A hold (a 429, or Cloudflare reporting few calls left) stops every call until it ends. A
 * revocation waiting for the lease makes a sweep yield at its next reservation.
 * @see https://developers.cloudflare.com/fundamentals/api/reference/limits/
 */

/** Who asks, in priority order: a sweep never takes the headroom a revocation may need. */
export type Lane = "revocation" | "requested" | "sweep";

/** The account's budget. */
export interface RateBudgetConfig {
  /** Calls tunnelplane may send in any window (the share of Cloudflare's limit), >= 1. */
  callsPerWindow: number;
  /** The window, ms (Cloudflare: 300,000). */
  windowMs: number;
}

/** Persisted budget state. */
export interface RateBudgetState {
  /** Calls granted per slot, by slot start (epoch ms, a multiple of windowMs / 10). */
  slots: { startMs: number; calls: number }[];
  /** No call may be sent before this instant, epoch ms (0: none held). */
  heldUntilMs: number;
  /** Why calls are held, or null. */
  holdReason: string | null;
  /**
   * Until this instant (epoch ms) a revocation waits for the account's lease: a sweep asking for
   * calls is told to yield (end, continued) instead. 0 or absent: none waits.
   */
  preemptUntilMs?: number;
}

/** Outcome of asking for calls. */
export type Reservation =
  | { status: "granted"; calls: number }
  | { status: "wait"; retryAtMs: number; reason: string }
  | { status: "yield"; retryAtMs: number; reason: string };

/** The budget of an account that never called. */
export const FRESH_BUDGET: RateBudgetState = { slots: [], heldUntilMs: 0, holdReason: null };

/** Share of the budget each lane may fill: sweeps leave 25% free, requested applies 10%. */
export const LANE_SHARE: Readonly<Record<Lane, number>> = {
  revocation: 1,
  requested: 0.9,
  sweep: 0.75,
};

const SLOTS_PER_WINDOW = 10;

function slotMsOf(config: RateBudgetConfig): number {
  return Math.max(1, Math.floor(config.windowMs / SLOTS_PER_WINDOW));
}

/** Slots that still overlap the window ending at `nowMs`. */
function liveSlots(state: RateBudgetState, config: RateBudgetConfig, nowMs: number) {
  const slotMs = slotMsOf(config);
  return state.slots.filter((s) => s.startMs + slotMs > nowMs - config.windowMs);
}

/**
 * Grants up to `wanted` calls to `lane` at `nowMs`: as many as fit under the lane's part of the
 * budget in the window ending now. None fit: `wait` until the oldest slot leaves the window (or
 * the hold ends).
 * @returns the next state (unchanged when nothing is granted) and the reservation.
 */
export function reserveCalls(
  state: RateBudgetState,
  config: RateBudgetConfig,
  lane: Lane,
  wanted: number,
  nowMs: number,
): { next: RateBudgetState; result: Reservation } {
  if (nowMs < state.heldUntilMs) {
    const reason = state.holdReason ?? "calls are held";
    return { next: state, result: { status: "wait", retryAtMs: state.heldUntilMs, reason } };
  }
  const preemptUntilMs = state.preemptUntilMs ?? 0;
  if (lane === "sweep" && nowMs < preemptUntilMs) {
    const reason = "a revocation waits for the lease: the sweep yields and continues after it";
    return { next: state, result: { status: "yield", retryAtMs: preemptUntilMs, reason } };
  }
  const slots = liveSlots(state, config, nowMs);
  const used = slots.reduce((sum, s) => sum + s.calls, 0);
  const cap = Math.max(1, Math.floor(config.callsPerWindow * LANE_SHARE[lane]));
  const calls = Math.min(wanted, cap - used);
  if (calls <= 0) {
    const slotMs = slotMsOf(config);
    const oldest = slots[0]?.startMs ?? nowMs;
    return {
      next: state,
      result: {
        status: "wait",
        retryAtMs: oldest + slotMs + config.windowMs,
        reason: `the ${lane} share of ${config.callsPerWindow} calls per ${config.windowMs / 1000} s is spent`,
      },
    };
  }
  const slotMs = slotMsOf(config);
  const startMs = nowMs - (nowMs % slotMs);
  const last = slots[slots.length - 1];
  const nextSlots =
    last !== undefined && last.startMs === startMs
      ? [...slots.slice(0, -1), { startMs, calls: last.calls + calls }]
      : [...slots, { startMs, calls }];
  return {
    next: {
      ...state,
      slots: nextSlots,
      holdReason: state.heldUntilMs > nowMs ? state.holdReason : null,
    },
    result: { status: "granted", calls },
  };
}

/** Gives back calls granted but not sent (taken off the newest slot). */
export function refundCalls(state: RateBudgetState, calls: number): RateBudgetState {
  const last = state.slots[state.slots.length - 1];
  if (last === undefined || calls <= 0) {
    return state;
  }
  return {
    ...state,
    slots: [...state.slots.slice(0, -1), { ...last, calls: Math.max(0, last.calls - calls) }],
  };
}

/** Stops every call until `untilMs` (epoch ms); a later hold already set is kept. */
export function holdCalls(
  state: RateBudgetState,
  untilMs: number,
  reason: string,
): RateBudgetState {
  if (untilMs <= state.heldUntilMs) {
    return state;
  }
  return { ...state, heldUntilMs: untilMs, holdReason: reason };
}

/**
 * Makes sweeps yield until `untilMs` (epoch ms): a revocation waits for the lease a sweep holds.
 * 0 ends the pre-emption (the revocation got the lease).
 */
export function preemptSweeps(state: RateBudgetState, untilMs: number): RateBudgetState {
  return (state.preemptUntilMs ?? 0) === untilMs ? state : { ...state, preemptUntilMs: untilMs };
}

/**
 * Reads Cloudflare's `Ratelimit: "default";r=<remaining>;t=<seconds>` header.
 * @returns remaining calls and seconds until the window frees them, or null when absent/garbled.
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
 */
export function parseRatelimitHeader(
  value: string | null,
): { remaining: number; resetSeconds: number } | null {
  if (value === null) {
    return null;
  }
  const r = /(?:^|;)\s*r=(\d+)/.exec(value)?.[1];
  const t = /(?:^|;)\s*t=(\d+)/.exec(value)?.[1];
  return r === undefined || t === undefined
    ? null
    : { remaining: Number(r), resetSeconds: Number(t) };
}
