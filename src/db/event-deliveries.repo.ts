/**
 * Deliveries of events to subscriptions: inserted when the event happens, attempted one by one
 * from the queue, each attempt recorded with the subscription's last-delivery outcome.
 */
import { and, asc, desc, eq, inArray, lt, or } from "drizzle-orm";
import type { Db } from "./client";
import type { LastDelivery } from "./event-subscriptions.repo";
import type { DeliveryAttempt } from "./grant-deliveries.repo";
import type { CursorPosition } from "./pagination";
import { eventDeliveries, eventSubscriptions } from "./schema";

/** A stored event delivery. */
export interface EventDeliveryRecord {
  id: string;
  accountId: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  payloadJson: string;
  status: "pending" | "delivered" | "failed";
  attempts: DeliveryAttempt[];
  /** When the next attempt is due, epoch ms; null once delivered or failed. */
  nextAttemptAtMs: number | null;
  deliveredAtMs: number | null;
  createdAtMs: number;
}

type Row = typeof eventDeliveries.$inferSelect;

function fromRow(row: Row): EventDeliveryRecord {
  return {
    id: row.id,
    accountId: row.accountId,
    subscriptionId: row.subscriptionId,
    eventId: row.eventId,
    eventType: row.eventType,
    payloadJson: row.payloadJson,
    status: row.status,
    attempts: JSON.parse(row.attemptsJson) as DeliveryAttempt[],
    nextAttemptAtMs: row.nextAttemptAtMs,
    deliveredAtMs: row.deliveredAtMs,
    createdAtMs: row.createdAtMs,
  };
}

/** A delivery to insert, pending and due at once. */
export type NewEventDelivery = Pick<
  EventDeliveryRecord,
  "id" | "subscriptionId" | "eventId" | "eventType" | "payloadJson"
>;

/** Inserts pending deliveries, due at `nowMs`, one statement each in one batch. */
export async function insertEventDeliveries(
  db: Db,
  accountId: string,
  deliveries: NewEventDelivery[],
  nowMs: number,
): Promise<void> {
  const [first, ...rest] = deliveries.map((d) =>
    db.insert(eventDeliveries).values({
      ...d,
      accountId,
      status: "pending",
      attemptsJson: "[]",
      nextAttemptAtMs: nowMs,
      deliveredAtMs: null,
      createdAtMs: nowMs,
    }),
  );
  if (first !== undefined) {
    await db.batch([first, ...rest]);
  }
}

/** A delivery's place: enough to queue a message for it. */
export interface DeliveryRef {
  id: string;
  accountId: string;
}

/**
 * Pending deliveries whose next attempt was due before `beforeMs` (epoch ms), oldest due first,
 * at most `limit`: their queue message was lost or never sent.
 */
export async function listOverdueDeliveries(
  db: Db,
  beforeMs: number,
  limit: number,
): Promise<DeliveryRef[]> {
  return db
    .select({ id: eventDeliveries.id, accountId: eventDeliveries.accountId })
    .from(eventDeliveries)
    .where(
      and(eq(eventDeliveries.status, "pending"), lt(eventDeliveries.nextAttemptAtMs, beforeMs)),
    )
    .orderBy(asc(eventDeliveries.nextAttemptAtMs))
    .limit(limit);
}

/**
 * Marks deliveries queued again at `nowMs` (their next attempt is due then), so a later sweep
 * leaves them alone until they are overdue again.
 */
export async function markDeliveriesRequeued(
  db: Db,
  ids: readonly string[],
  nowMs: number,
): Promise<void> {
  if (ids.length > 0) {
    await db
      .update(eventDeliveries)
      .set({ nextAttemptAtMs: nowMs })
      .where(and(inArray(eventDeliveries.id, [...ids]), eq(eventDeliveries.status, "pending")));
  }
}

/** One delivery, or undefined. */
export async function getEventDelivery(
  db: Db,
  accountId: string,
  id: string,
): Promise<EventDeliveryRecord | undefined> {
  const rows = await db
    .select()
    .from(eventDeliveries)
    .where(and(eq(eventDeliveries.accountId, accountId), eq(eventDeliveries.id, id)));
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** A page of a subscription's deliveries, newest first, `limit + 1` rows for paging. */
export async function listEventDeliveries(
  db: Db,
  accountId: string,
  subscriptionId: string,
  before: CursorPosition | undefined,
  limit: number,
): Promise<EventDeliveryRecord[]> {
  const rows = await db
    .select()
    .from(eventDeliveries)
    .where(
      and(
        eq(eventDeliveries.accountId, accountId),
        eq(eventDeliveries.subscriptionId, subscriptionId),
        before === undefined
          ? undefined
          : or(
              lt(eventDeliveries.createdAtMs, before.atMs),
              and(eq(eventDeliveries.createdAtMs, before.atMs), lt(eventDeliveries.id, before.id)),
            ),
      ),
    )
    .orderBy(desc(eventDeliveries.createdAtMs), desc(eventDeliveries.id))
    .limit(limit + 1);
  return rows.map(fromRow);
}

/**
 * Records an attempt, the delivery's new status and the subscription's last delivery, only if
 * nobody recorded an attempt since `delivery` was read (a message the queue delivered twice is
 * attempted once).
 * @returns false when another consumer got there first.
 */
export async function recordEventDeliveryAttempt(
  db: Db,
  delivery: EventDeliveryRecord,
  attempt: DeliveryAttempt,
  next: { status: EventDeliveryRecord["status"]; nextAttemptAtMs: number | null },
): Promise<boolean> {
  const last: LastDelivery["status"] =
    next.status === "pending" ? "retrying" : next.status === "delivered" ? "delivered" : "failed";
  const [rows] = await db.batch([
    db
      .update(eventDeliveries)
      .set({
        attemptsJson: JSON.stringify([...delivery.attempts, attempt]),
        status: next.status,
        nextAttemptAtMs: next.nextAttemptAtMs,
        deliveredAtMs: next.status === "delivered" ? attempt.atMs : null,
      })
      .where(
        and(
          eq(eventDeliveries.accountId, delivery.accountId),
          eq(eventDeliveries.id, delivery.id),
          eq(eventDeliveries.attemptsJson, JSON.stringify(delivery.attempts)),
        ),
      )
      .returning({ id: eventDeliveries.id }),
    db
      .update(eventSubscriptions)
      .set({
        lastDeliveryStatus: last,
        lastDeliveryAtMs: attempt.atMs,
        lastDeliveryStatusCode: attempt.statusCode,
        lastDeliveryError: attempt.error,
      })
      .where(
        and(
          eq(eventSubscriptions.accountId, delivery.accountId),
          eq(eventSubscriptions.id, delivery.subscriptionId),
          // The attempt landed: the delivery now holds it.
          eq(
            db
              .select({ a: eventDeliveries.attemptsJson })
              .from(eventDeliveries)
              .where(eq(eventDeliveries.id, delivery.id)),
            JSON.stringify([...delivery.attempts, attempt]),
          ),
        ),
      ),
  ]);
  return rows.length > 0;
}
