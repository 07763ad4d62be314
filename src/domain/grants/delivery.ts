/**
 * Delivery timing: every state change of a grant is POSTed to its callback URL, every event to
 * its subscribers; a failed attempt is retried with exponential backoff until it succeeds or the
 * attempts run out.
 */

/** Attempts in all, the first one included. */
export const MAX_DELIVERY_ATTEMPTS = 8;
/** Wait after the first failed attempt, ms; doubles after each further failure. */
export const FIRST_RETRY_AFTER_MS = 30_000;
/** Longest wait between two attempts, ms. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** How a kind of delivery is retried (grant callbacks, event webhooks). */
export interface RetrySchedule {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Wait after the first failed attempt, ms; doubles after each further failure. */
  firstRetryAfterMs: number;
  /** Longest wait between two attempts, ms. */
  maxRetryAfterMs: number;
}

/** Grant callbacks' schedule: 8 attempts, 30 s doubling up to one hour. */
export const CALLBACK_RETRY_SCHEDULE: RetrySchedule = {
  maxAttempts: MAX_DELIVERY_ATTEMPTS,
  firstRetryAfterMs: FIRST_RETRY_AFTER_MS,
  maxRetryAfterMs: MAX_RETRY_AFTER_MS,
};

/**
 * When to try again after `attemptsMade` failed attempts, the last at `lastAttemptAtMs` (epoch
 * ms): by default 30 s, 60 s, 120 s … capped at one hour. Null once `schedule.maxAttempts`
 * have failed.
 */
export function nextDeliveryAttemptAtMs(
  attemptsMade: number,
  lastAttemptAtMs: number,
  schedule: RetrySchedule = CALLBACK_RETRY_SCHEDULE,
): number | null {
  if (attemptsMade >= schedule.maxAttempts) {
    return null;
  }
  const waitMs = Math.min(
    schedule.firstRetryAfterMs * 2 ** (attemptsMade - 1),
    schedule.maxRetryAfterMs,
  );
  return lastAttemptAtMs + waitMs;
}
