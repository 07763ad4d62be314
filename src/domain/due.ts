/**
 * When an account is next due for a scheduled sweep: its interval after the run, plus a jitter
 * of up to a tenth of the interval that is fixed per account (derived from its id). Accounts
 * registered or reconciled together then spread over the cron's ticks instead of all falling
 * due in the same one, while each account keeps a steady period.
 */

/** Largest jitter as a share of the interval (exclusive). */
export const DUE_JITTER_SHARE = 0.1;

/** A 32-bit FNV-1a hash of `text` (a stable, well-spread number per account id). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The jitter of `accountId` for an interval of `intervalS` seconds, ms: an integer in
 * [0, intervalS * 1000 * DUE_JITTER_SHARE).
 */
export function dueJitterMs(accountId: string, intervalS: number): number {
  const spanMs = Math.floor(intervalS * 1000 * DUE_JITTER_SHARE);
  return spanMs <= 0 ? 0 : fnv1a(accountId) % spanMs;
}

/**
 * When the account is due again after a run that finished at `finishedAtMs` (epoch ms):
 * `intervalS` seconds later plus its dueJitterMs.
 */
export function nextSweepAtMs(accountId: string, finishedAtMs: number, intervalS: number): number {
  return finishedAtMs + intervalS * 1000 + dueJitterMs(accountId, intervalS);
}
