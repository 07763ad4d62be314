/**
 * The Cron Trigger's work: find accounts that are due (each run sets its account's next due time
 * to its interval plus a fixed per-account jitter, see domain/due.ts) and hand each to the queue,
 * marking them enqueued, so thousands of accounts fan out over Queues (with the platform's retries and dead-letter queue). Without a
 * queue binding it reconciles due accounts inline, a few per tick. Then it purges a bounded batch
 * of expired idempotency keys, prunes the audit log past its retention (of the accounts handed
 * out), re-seals a bounded batch of secrets after a key rotation and queues again the event
 * deliveries whose queue message never came (events/sweep.ts).
 */
import { listDueAccounts, scheduleAccounts } from "../db/accounts.repo";
import { IDEMPOTENCY_KEY_TTL_MS, purgeIdempotencyKeys } from "../db/idempotency.repo";
import { pruneAuditLogs } from "./audit-retention";
import { ENQUEUED_GRACE_MS, QUEUE_SEND_BATCH_MAX, type ReconcileMessage } from "./continue";
import type { ReconcileDeps } from "./deps";
import { requeueOverdueDeliveries } from "./events/sweep";
import { reconcileAccount } from "./reconcile-account";
import { resealStaleSecrets } from "./reseal";

/** Most accounts one tick hands out; the rest are due again at the next tick. */
export const MAX_ACCOUNTS_PER_TICK = 1000;
/** Accounts reconciled inline per tick when no queue is bound. */
export const MAX_INLINE_ACCOUNTS_PER_TICK = 3;
/**
 * Most expired idempotency keys one tick deletes; a larger backlog shrinks by this much a tick
 * (1.4 million a day at one tick a minute).
 */
export const MAX_IDEMPOTENCY_KEYS_PURGED_PER_TICK = 1000;

/**
 * Enqueues (or reconciles inline) the accounts due at `nowMs`, then deletes at most
 * MAX_IDEMPOTENCY_KEYS_PURGED_PER_TICK idempotency keys older than IDEMPOTENCY_KEY_TTL_MS, prunes
 * the audit log of those accounts past AUDIT_RETENTION_DAYS, re-seals at most
 * MAX_SECRETS_RESEALED_PER_TICK secrets sealed under an older key, and queues again at most
 * MAX_DELIVERIES_REQUEUED_PER_TICK overdue event deliveries.
 * @returns the account ids handed out.
 */
export async function runScheduledTick(
  deps: ReconcileDeps,
  queue: Queue<ReconcileMessage> | undefined,
  nowMs: number,
): Promise<string[]> {
  // Accounts first: housekeeping that fails must not hold back a reconcile.
  const ids = await handOutDueAccounts(deps, queue, nowMs);
  await purgeIdempotencyKeys(
    deps.db,
    nowMs - IDEMPOTENCY_KEY_TTL_MS,
    MAX_IDEMPOTENCY_KEYS_PURGED_PER_TICK,
  );
  await pruneAuditLogs(deps, ids, nowMs);
  await resealStaleSecrets(deps);
  await requeueOverdueDeliveries(deps, nowMs);
  return ids;
}

async function handOutDueAccounts(
  deps: ReconcileDeps,
  queue: Queue<ReconcileMessage> | undefined,
  nowMs: number,
): Promise<string[]> {
  const limit = queue === undefined ? MAX_INLINE_ACCOUNTS_PER_TICK : MAX_ACCOUNTS_PER_TICK;
  const due = await listDueAccounts(deps.db, nowMs, limit);
  const ids = due.map((a) => a.id);
  if (queue === undefined) {
    for (const id of ids) {
      await reconcileAccount(deps, id, "cron");
    }
    return ids;
  }
  for (let i = 0; i < ids.length; i += QUEUE_SEND_BATCH_MAX) {
    const batch = ids.slice(i, i + QUEUE_SEND_BATCH_MAX);
    await queue.sendBatch(batch.map((id) => ({ body: { account_id: id } })));
    // The run reschedules the account when it finishes; until then it is not handed out twice.
    await scheduleAccounts(deps.db, batch, nowMs + ENQUEUED_GRACE_MS);
  }
  return ids;
}
