/**
 * Callback delivery timing: every state change of a grant is POSTed to its callback URL; a
 * failed attempt is retried with exponential backoff until it succeeds or the attempts run out.
 */

/** Attempts in all, the first one included. */
export const MAX_DELIVERY_ATTEMPTS = 8;
/** Wait after the first failed attempt, ms; doubles after each further failure. */
export const FIRST_RETRY_AFTER_MS = 30_000;
/** Longest wait between two attempts, ms. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * When to try again after `attemptsMade` failed attempts, the last at `lastAttemptAtMs` (epoch
 * ms): 30 s, 60 s, 120 s … capped at one hour. Null once MAX_DELIVERY_ATTEMPTS have failed.
 */
export function nextDeliveryAttemptAtMs(
  attemptsMade: number,
  lastAttemptAtMs: number,
): number | null {
  if (attemptsMade >= MAX_DELIVERY_ATTEMPTS) {
    return null;
  }
  const waitMs = Math.min(FIRST_RETRY_AFTER_MS * 2 ** (attemptsMade - 1), MAX_RETRY_AFTER_MS);
  return lastAttemptAtMs + waitMs;
}
