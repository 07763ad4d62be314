/**
 * The rate gate of one run: calls are granted in small chunks by the account's AccountLock (the
 * budget outlives the run), a 429 or a low `Ratelimit` remaining holds every call of the account,
 * and nothing is sent while a hold lasts. A run's first call goes out alone, so a lockout that
 * another client of the token caused meets one call, not a burst.
 */
import { type CallGate, CallsHeldError, RunPreemptedError } from "../cloudflare/client";
import type { Config } from "../config";
import { type Lane, parseRatelimitHeader, type RateBudgetConfig } from "../domain/rate-budget";
import type { LockClient } from "../lock/lock-client";

/** Calls asked of the lock per round trip: few enough that a sweep never hoards the budget. */
const CALLS_PER_RESERVATION = 10;
/** Below this share of Cloudflare's limit left, calls wait for the window to free some. */
const REMAINING_FLOOR_SHARE = 0.05;

/**
 * The account's budget: its share of Cloudflare's limit per window, the account's own
 * `apiBudgetShare` when set, else the configured CLOUDFLARE_API_BUDGET_SHARE.
 */
export function budgetOf(config: Config, accountShare: number | null): RateBudgetConfig {
  const share = accountShare ?? config.apiBudgetShare;
  return {
    callsPerWindow: Math.max(1, Math.floor(config.apiRateLimit * share)),
    windowMs: config.apiRateWindowMs,
  };
}

/** A run's gate; `close()` gives back the calls granted but not sent. */
export interface RunGate extends CallGate {
  close(): Promise<void>;
}

/** The gate for the calls of `account` in `lane`. */
export function createRunGate(
  deps: { lock: LockClient; config: Config; nowMs: () => number },
  account: { id: string; apiBudgetShare: number | null },
  lane: Lane,
): RunGate {
  const accountId = account.id;
  const budget = budgetOf(deps.config, account.apiBudgetShare);
  let granted = 0;
  let heldUntilMs = 0;
  let holdReason = "";
  const hold = async (untilMs: number, reason: string) => {
    if (untilMs > heldUntilMs) {
      heldUntilMs = untilMs;
      holdReason = reason;
    }
    await deps.lock.holdCalls(accountId, untilMs, reason);
  };
  const take = async () => {
    const nowMs = deps.nowMs();
    if (nowMs < heldUntilMs) {
      throw new CallsHeldError(heldUntilMs, heldUntilMs - nowMs, holdReason);
    }
    if (granted === 0) {
      const reservation = await deps.lock.reserveCalls(
        accountId,
        lane,
        CALLS_PER_RESERVATION,
        budget,
      );
      if (reservation.status === "yield") {
        throw new RunPreemptedError(
          reservation.retryAtMs,
          reservation.retryAtMs - nowMs,
          reservation.reason,
        );
      }
      if (reservation.status === "wait") {
        heldUntilMs = reservation.retryAtMs;
        holdReason = reservation.reason;
        throw new CallsHeldError(
          reservation.retryAtMs,
          reservation.retryAtMs - nowMs,
          reservation.reason,
        );
      }
      granted = reservation.calls;
    }
    granted -= 1;
  };
  const learn = async (response: Response | null, nowMs: number) => {
    if (response === null) {
      return;
    }
    if (response.status === 429) {
      const seconds = Number(response.headers.get("retry-after") ?? Number.NaN);
      const waitMs =
        Number.isFinite(seconds) && seconds >= 0
          ? Math.ceil(seconds * 1000)
          : deps.config.defaultRetryAfterMs;
      await hold(
        nowMs + waitMs,
        `Cloudflare answered 429; no call before ${new Date(nowMs + waitMs).toISOString()}`,
      );
      return;
    }
    const limit = parseRatelimitHeader(response.headers.get("ratelimit"));
    const floor = Math.ceil(deps.config.apiRateLimit * REMAINING_FLOOR_SHARE);
    if (limit !== null && limit.remaining <= floor) {
      const untilMs = nowMs + limit.resetSeconds * 1000;
      await hold(untilMs, `Cloudflare reports ${limit.remaining} calls left in its window`);
    }
  };
  let queue: Promise<unknown> = Promise.resolve();
  let probing = true;
  let probeAnswered: (() => void) | undefined;
  return {
    // Observation sends several lists at once; one reservation at a time keeps them from
    // racing for the same chunk (and from asking the lock once each). The run's first call goes
    // out alone: when another client of the token has locked it out, one call meets the
    // lockout and the rest are held by its 429 instead of all being refused (each refused call
    // counts towards the next window).
    beforeCall() {
      const turn = queue.then(take);
      queue = turn.catch(() => undefined);
      if (probing) {
        probing = false;
        const answered = new Promise<void>((resolve) => {
          probeAnswered = resolve;
        });
        turn.catch(() => probeAnswered?.());
        queue = queue.then(() => answered);
      }
      return turn;
    },
    async afterResponse(response) {
      const nowMs = deps.nowMs();
      try {
        await learn(response, nowMs);
      } finally {
        probeAnswered?.();
        probeAnswered = undefined;
      }
    },
    async close() {
      if (granted > 0) {
        await deps.lock.refundCalls(accountId, granted);
        granted = 0;
      }
    },
  };
}
