/**
 * The cron's safety net for event deliveries: a delivery stays `pending` for good when its queue
 * message was never sent (the queue refused it after the delivery was stored) or was lost, since
 * only a message makes an attempt. Each tick queues a new message for a bounded batch of
 * deliveries overdue by more than a grace period that a delayed message never needs.
 */
import { listOverdueDeliveries, markDeliveriesRequeued } from "../../db/event-deliveries.repo";
import type { ReconcileDeps } from "../deps";

/** How long past its due time a pending delivery waits before the sweep queues it again, ms. */
export const OVERDUE_DELIVERY_GRACE_MS = 10 * 60_000;
/**
 * Most deliveries one tick queues again (within D1's 100 bound parameters per statement); a
 * larger backlog shrinks by this much a tick.
 */
export const MAX_DELIVERIES_REQUEUED_PER_TICK = 50;

/**
 * Queues one attempt for each pending delivery due before `nowMs - OVERDUE_DELIVERY_GRACE_MS`
 * (at most MAX_DELIVERIES_REQUEUED_PER_TICK), and marks them due at `nowMs`. A message that was
 * only late may then make a second attempt of the same delivery; receivers de-duplicate on the
 * event id (README, "Events").
 * @returns the number of deliveries queued again (0 without a queue binding).
 */
export async function requeueOverdueDeliveries(deps: ReconcileDeps, nowMs: number) {
  if (deps.eventQueue === undefined) {
    return 0;
  }
  const overdue = await listOverdueDeliveries(
    deps.db,
    nowMs - OVERDUE_DELIVERY_GRACE_MS,
    MAX_DELIVERIES_REQUEUED_PER_TICK,
  );
  if (overdue.length === 0) {
    return 0;
  }
  await deps.eventQueue.sendBatch(
    overdue.map((d) => ({ body: { account_id: d.accountId, event_delivery_id: d.id } })),
  );
  await markDeliveriesRequeued(
    deps.db,
    overdue.map((d) => d.id),
    nowMs,
  );
  return overdue.length;
}
