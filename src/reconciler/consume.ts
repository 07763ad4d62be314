/**
 * The queue consumer: reconcile each account in the batch under one subrequest budget for the
 * whole invocation (Workers limit subrequests per invocation, not per run), so a batch of many
 * accounts never exceeds it; a held lease retries the message.
 */
import { SubrequestBudget } from "../cloudflare/client";
import type { ReconcileMessage } from "./continue";
import type { ReconcileDeps } from "./deps";
import { deliverEvent } from "./events/deliver";
import { isEventDeliveryMessage } from "./events/emit";
import { reconcileAccount } from "./reconcile-account";

/**
 * Fewest subrequests left to the invocation for a run to start: one observation (about 9 lists)
 * and a few writes. A message met with less is handed to a later invocation.
 */
export const MIN_SUBREQUESTS_PER_RUN = 20;

/**
 * Handles one batch, its runs sharing `config.maxSubrequestsPerInvocation`. A message whose
 * account is held by another run is retried after the lease's remaining time; a message the
 * invocation has no budget left for is sent again (not retried: that would count towards its
 * dead-lettering); an unknown account is acknowledged (it was deleted); anything thrown is
 * retried by the platform and ends in the dead-letter queue after `max_retries`. An event
 * delivery message is one webhook attempt (events/deliver.ts), which queues its own retries.
 */
export async function consumeReconcileBatch(
  deps: ReconcileDeps,
  batch: MessageBatch<ReconcileMessage>,
): Promise<void> {
  const invocationBudget = new SubrequestBudget(deps.config.maxSubrequestsPerInvocation);
  const runDeps = { ...deps, invocationBudget };
  for (const message of batch.messages) {
    const body: unknown = message.body;
    if (isEventDeliveryMessage(body)) {
      await deliverEvent(deps, body);
      message.ack();
      continue;
    }
    if (invocationBudget.remaining < MIN_SUBREQUESTS_PER_RUN) {
      if (deps.queue === undefined) {
        message.retry({ delaySeconds: 1 });
      } else {
        await deps.queue.send(message.body);
        message.ack();
      }
      continue;
    }
    const outcome = await reconcileAccount(runDeps, message.body.account_id, "queue");
    if (outcome.status === "held") {
      message.retry({ delaySeconds: Math.ceil(outcome.retryAfterMs / 1000) });
    } else {
      message.ack();
    }
  }
}
