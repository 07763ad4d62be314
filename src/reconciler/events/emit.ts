/**
 * Raising events: each event becomes one delivery per enabled subscription whose patterns
 * select it, stored in D1 with its body fixed, and one queue message per delivery (the queue's
 * consumer sends it, see deliver.ts). Raised after the change it reports has landed; an event
 * is never raised for a change that did not.
 */
import type { Db } from "../../db/client";
import { insertEventDeliveries, type NewEventDelivery } from "../../db/event-deliveries.repo";
import { listEnabledSubscriptions } from "../../db/event-subscriptions.repo";
import {
  type AccountEvent,
  eventBody,
  matchesEventType,
  slackBody,
} from "../../domain/events/events";
import { QUEUE_SEND_BATCH_MAX } from "../continue";

/** The queue message that asks for one attempt of one delivery. */
export interface EventDeliveryMessage {
  account_id: string;
  event_delivery_id: string;
}

/** Whether a queue message is an event delivery (the rest are accounts to reconcile). */
export function isEventDeliveryMessage(body: unknown): body is EventDeliveryMessage {
  return typeof (body as Partial<EventDeliveryMessage>).event_delivery_id === "string";
}

/** Where events go: the deliveries table and the queue that sends them. */
export interface EventSink {
  db: Db;
  /** RECONCILE_QUEUE; undefined: deliveries stay pending (nothing sends them). */
  eventQueue: Queue<EventDeliveryMessage> | undefined;
}

/**
 * Stores a delivery of each of `events` (all of one account) for each enabled subscription that
 * selects it, and enqueues them. Never throws: the change an event reports has already landed,
 * so a failure to store or enqueue its deliveries is logged (`events-not-raised`) and never
 * turns that change into an error its caller would retry.
 * @returns the number of deliveries stored (0 when storing failed); a delivery stored but not
 * enqueued stays `pending`.
 */
export async function emitEvents(
  sink: EventSink,
  accountId: string,
  events: readonly AccountEvent[],
  nowMs: number,
): Promise<number> {
  if (events.length === 0) {
    return 0;
  }
  let deliveries: NewEventDelivery[];
  try {
    const subscriptions = await listEnabledSubscriptions(sink.db, accountId);
    deliveries = events.flatMap((event) =>
      subscriptions
        .filter((s) => matchesEventType(s.events, event.type))
        .map((s) => ({
          id: crypto.randomUUID(),
          subscriptionId: s.id,
          eventId: event.id,
          eventType: event.type,
          payloadJson: JSON.stringify(s.format === "slack" ? slackBody(event) : eventBody(event)),
        })),
    );
    if (deliveries.length === 0) {
      return 0;
    }
    await insertEventDeliveries(sink.db, accountId, deliveries, nowMs);
  } catch (error) {
    logNotRaised(accountId, events, "storing", error);
    return 0;
  }
  const messages = deliveries.map((d) => ({
    body: { account_id: accountId, event_delivery_id: d.id },
  }));
  try {
    for (let at = 0; at < messages.length; at += QUEUE_SEND_BATCH_MAX) {
      await sink.eventQueue?.sendBatch(messages.slice(at, at + QUEUE_SEND_BATCH_MAX));
    }
  } catch (error) {
    logNotRaised(accountId, events, "enqueueing", error);
  }
  return deliveries.length;
}

/** One structured log line for events whose deliveries could not be stored or enqueued. */
function logNotRaised(
  accountId: string,
  events: readonly AccountEvent[],
  step: "storing" | "enqueueing",
  error: unknown,
): void {
  console.error(
    JSON.stringify({
      message: "events-not-raised",
      account_id: accountId,
      event_ids: events.map((e) => e.id),
      step,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
}
