/**
 * The queue's side of event webhooks: one message is one attempt of one delivery, signed like
 * grant callbacks (signed-post.ts) under the subscription's secret. A failed attempt is
 * recorded and a new message sent, delayed by the backoff (config.eventRetry); after the last
 * attempt, or when the URL is refused, the delivery is marked `failed`, as is the
 * subscription's last delivery. A message for a delivery that already moved on is dropped.
 */
import { getEventDelivery, recordEventDeliveryAttempt } from "../../db/event-deliveries.repo";
import { getSealedSubscriptionSecret, getSubscription } from "../../db/event-subscriptions.repo";
import { getGrantSettings } from "../../db/grant-settings.repo";
import { nextDeliveryAttemptAtMs } from "../../domain/grants/delivery";
import { openSecret } from "../../lib/key-ring";
import { continueDelaySeconds } from "../continue";
import type { ReconcileDeps } from "../deps";
import { type AttemptResult, postSigned } from "../signed-post";
import type { EventDeliveryMessage } from "./emit";

/** The associated data a subscription's secret is sealed under. */
export const subscriptionSealContext = (accountId: string, subscriptionId: string) =>
  ({
    accountId,
    purpose: "callback-secret",
    scope: `event-subscription/${subscriptionId}`,
  }) as const;

/**
 * Makes the attempt `message` asks for.
 * @returns what became of the delivery: `delivered`, `pending` (a retry is queued), `failed`,
 *   or `skipped` (gone, already done, or another consumer got there first).
 */
export async function deliverEvent(
  deps: ReconcileDeps,
  message: EventDeliveryMessage,
): Promise<"delivered" | "pending" | "failed" | "skipped"> {
  const accountId = message.account_id;
  const delivery = await getEventDelivery(deps.db, accountId, message.event_delivery_id);
  if (delivery === undefined || delivery.status !== "pending") {
    return "skipped";
  }
  const [subscription, sealed, settings] = await Promise.all([
    getSubscription(deps.db, accountId, delivery.subscriptionId),
    getSealedSubscriptionSecret(deps.db, accountId, delivery.subscriptionId),
    getGrantSettings(deps.db, accountId),
  ]);
  if (subscription === undefined || sealed === undefined) {
    return "skipped";
  }
  let result: AttemptResult;
  if (!subscription.enabled) {
    result = {
      atMs: deps.nowMs(),
      statusCode: null,
      error: "the subscription is disabled",
      final: true,
    };
  } else {
    const secret = await openSecret(
      await deps.keyRing(),
      sealed,
      subscriptionSealContext(accountId, subscription.id),
    );
    result = await postSigned(
      deps,
      {
        id: delivery.id,
        event: delivery.eventType,
        url: subscription.url,
        payloadJson: delivery.payloadJson,
      },
      [secret],
      settings?.callbackAllowedPorts ?? [],
    );
  }
  const { final, ...attempt } = result;
  const nextAttemptAtMs =
    attempt.error === null || final
      ? null
      : nextDeliveryAttemptAtMs(delivery.attempts.length + 1, attempt.atMs, deps.config.eventRetry);
  const status =
    attempt.error === null ? "delivered" : nextAttemptAtMs === null ? "failed" : "pending";
  if (
    !(await recordEventDeliveryAttempt(deps.db, delivery, attempt, { status, nextAttemptAtMs }))
  ) {
    return "skipped";
  }
  if (nextAttemptAtMs !== null) {
    await deps.eventQueue?.send(message, {
      delaySeconds: continueDelaySeconds(deps.nowMs(), nextAttemptAtMs),
    });
  }
  return status;
}
