/**
 * The follow-up of a run that left work (its subrequest budget or the account's share of the
 * rate limit spent, or Cloudflare's calls held): a queue message delayed until the work may
 * resume, never an immediate re-run. Without a queue the account is simply due again then.
 */

/** The queue message: one account to reconcile. */
export interface ReconcileMessage {
  account_id: string;
}

/** An enqueued account is not handed out by the cron again for this long, in ms, unless its run finishes. */
export const ENQUEUED_GRACE_MS = 5 * 60_000;
/**
 * Longest delay a queue message may carry, s (Cloudflare Queues' cap, 12 hours).
 * @see https://developers.cloudflare.com/queues/configuration/batching-retries/#delay-messages
 */
export const MAX_QUEUE_DELAY_S = 43_200;

/** Messages one `Queue.sendBatch` may carry (Cloudflare Queues' limit; a larger batch is refused). */
export const QUEUE_SEND_BATCH_MAX = 100;

/**
 * The `delaySeconds` of the follow-up of a run that ended at `finishedAtMs` and continues at
 * `continueAtMs` (both epoch ms): whole seconds rounded up, at least 1, at most MAX_QUEUE_DELAY_S
 * (a longer hold is met by the follow-up finding the calls still held and continuing again).
 */
export function continueDelaySeconds(finishedAtMs: number, continueAtMs: number): number {
  const seconds = Math.ceil((continueAtMs - finishedAtMs) / 1000);
  return Math.min(MAX_QUEUE_DELAY_S, Math.max(1, seconds));
}

/**
 * When the account is due again after a continued run: at `continueAtMs` when no queue carries
 * the follow-up (the cron picks it up), else ENQUEUED_GRACE_MS after it, so the cron does not
 * hand out a second run while the message waits (the follow-up run reschedules the account).
 */
export function nextDueAfterContinued(continueAtMs: number, queued: boolean): number {
  return queued ? continueAtMs + ENQUEUED_GRACE_MS : continueAtMs;
}

/** Sends the follow-up of `accountId`'s continued run, delayed per continueDelaySeconds. */
export async function sendContinuation(
  queue: Queue<ReconcileMessage>,
  accountId: string,
  finishedAtMs: number,
  continueAtMs: number,
): Promise<void> {
  await queue.send(
    { account_id: accountId },
    { delaySeconds: continueDelaySeconds(finishedAtMs, continueAtMs) },
  );
}
