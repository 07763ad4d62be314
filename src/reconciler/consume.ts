/** The queue consumer: reconcile each account in the batch; a held lease retries the message. */

import type { ReconcileMessage } from "./continue";
import type { ReconcileDeps } from "./deps";
import { reconcileAccount } from "./reconcile-account";

/**
 * Handles one batch. A message whose account is held by another run is retried after the lease's
 * remaining time; an unknown account is acknowledged (it was deleted); anything thrown is retried
 * by the platform and ends in the dead-letter queue after `max_retries`.
 */
export async function consumeReconcileBatch(
  deps: ReconcileDeps,
  batch: MessageBatch<ReconcileMessage>,
): Promise<void> {
  for (const message of batch.messages) {
    const outcome = await reconcileAccount(deps, message.body.account_id, "queue");
    if (outcome.status === "held") {
      message.retry({ delaySeconds: Math.ceil(outcome.retryAfterMs / 1000) });
    } else {
      message.ack();
    }
  }
}
