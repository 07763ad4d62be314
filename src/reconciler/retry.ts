/**
 * tunnelplane's retry policy for Cloudflare calls (the SDK's own retries are off): a 429 waits
 * out its Retry-After, a 5xx or network failure backs off exponentially, and no single wait may
 * exceed `maxWaitMs`, so a run stays inside its time budget.
 */
import { BudgetExhaustedError, CallsHeldError, RunPreemptedError } from "../cloudflare/client";
import { toUpstreamError } from "../cloudflare/errors";

/** How a call is retried. */
export interface RetryPolicy {
  /** Attempts in all, first one included (>= 1). */
  maxAttempts: number;
  /** First backoff for 5xx without Retry-After, ms; doubles each attempt. */
  baseBackoffMs: number;
  /** Longest single wait, ms; a longer Retry-After fails the call instead. */
  maxWaitMs: number;
  /**
   * Whether 5xx and network failures are retried. Off for creates: the request may have been
   * processed (a lost response), and the next run finds such an object by its marker instead.
   */
  retryServerErrors: boolean;
  /** Waits `ms` milliseconds. */
  sleep: (ms: number) => Promise<void>;
}

/** The default policy: 4 attempts, 500 ms first backoff, at most 30 s per wait, 5xx retried. */
export function defaultRetryPolicy(sleep: (ms: number) => Promise<void>): RetryPolicy {
  return { maxAttempts: 4, baseBackoffMs: 500, maxWaitMs: 30_000, retryServerErrors: true, sleep };
}

/**
 * Runs `call`, retrying retryable upstream failures per `policy`.
 * @throws UpstreamError (terminal, or retryable after the last attempt), BudgetExhaustedError, or
 *   CallsHeldError when calls are held longer than `maxWaitMs`.
 */
export async function withRetry<T>(policy: RetryPolicy, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const failure = toUpstreamError(error);
      if (failure instanceof RunPreemptedError) {
        throw failure;
      }
      if (failure instanceof CallsHeldError) {
        // Calls are held for the whole account: a short hold is waited out, a long one ends
        // the run (it continues later); no call is ever sent before the hold ends.
        if (failure.waitMs > policy.maxWaitMs || attempt >= policy.maxAttempts) {
          throw failure;
        }
        await policy.sleep(failure.waitMs);
        continue;
      }
      if (
        failure instanceof BudgetExhaustedError ||
        !failure.retryable ||
        (failure.status !== 429 && !policy.retryServerErrors) ||
        attempt >= policy.maxAttempts
      ) {
        throw failure;
      }
      const waitMs = failure.retryAfterMs ?? policy.baseBackoffMs * 2 ** (attempt - 1);
      if (waitMs > policy.maxWaitMs) {
        throw failure;
      }
      await policy.sleep(waitMs);
    }
  }
}
