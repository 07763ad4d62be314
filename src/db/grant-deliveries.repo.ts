/** Callback deliveries of grants: pending ones by due time, attempts recorded one by one. */
import { and, asc, eq, isNotNull, lte, min } from "drizzle-orm";
import type { Db } from "./client";
import { grantDeliveries } from "./schema";

/** One attempt to deliver. */
export interface DeliveryAttempt {
  /** When it was sent, epoch ms. */
  atMs: number;
  /** The receiver's HTTP status, or null when no response came. */
  statusCode: number | null;
  /** Why it failed (network error, non-2xx), or null on success. */
  error: string | null;
}

/** A stored delivery. */
export interface DeliveryRecord {
  id: string;
  grantId: string;
  event: string;
  url: string;
  payloadJson: string;
  status: "pending" | "delivered" | "failed";
  attempts: DeliveryAttempt[];
  nextAttemptAtMs: number | null;
  deliveredAtMs: number | null;
  createdAtMs: number;
}

type Row = typeof grantDeliveries.$inferSelect;

function fromRow(row: Row): DeliveryRecord {
  return {
    id: row.id,
    grantId: row.grantId,
    event: row.event,
    url: row.url,
    payloadJson: row.payloadJson,
    status: row.status,
    attempts: JSON.parse(row.attemptsJson) as DeliveryAttempt[],
    nextAttemptAtMs: row.nextAttemptAtMs,
    deliveredAtMs: row.deliveredAtMs,
    createdAtMs: row.createdAtMs,
  };
}

/** Pending deliveries due at `nowMs`, oldest first (so a grant's events go out in order). */
export async function listDueDeliveries(
  db: Db,
  accountId: string,
  nowMs: number,
): Promise<DeliveryRecord[]> {
  const rows = await db
    .select()
    .from(grantDeliveries)
    .where(
      and(
        eq(grantDeliveries.accountId, accountId),
        eq(grantDeliveries.status, "pending"),
        lte(grantDeliveries.nextAttemptAtMs, nowMs),
      ),
    )
    .orderBy(asc(grantDeliveries.createdAtMs), asc(grantDeliveries.id))
    .limit(50);
  return rows.map(fromRow);
}

/** Every delivery of a grant, oldest first. */
export async function listGrantDeliveries(
  db: Db,
  accountId: string,
  grantId: string,
): Promise<DeliveryRecord[]> {
  const rows = await db
    .select()
    .from(grantDeliveries)
    .where(and(eq(grantDeliveries.accountId, accountId), eq(grantDeliveries.grantId, grantId)))
    .orderBy(asc(grantDeliveries.createdAtMs), asc(grantDeliveries.id));
  return rows.map(fromRow);
}

/**
 * Records an attempt and the delivery's new status, only if nobody recorded an attempt since
 * `delivery` was read (so two concurrent senders never both count one attempt).
 * @returns false when another sender got there first.
 */
export async function recordDeliveryAttempt(
  db: Db,
  accountId: string,
  delivery: DeliveryRecord,
  attempt: DeliveryAttempt,
  next: { status: DeliveryRecord["status"]; nextAttemptAtMs: number | null },
): Promise<boolean> {
  const rows = await db
    .update(grantDeliveries)
    .set({
      attemptsJson: JSON.stringify([...delivery.attempts, attempt]),
      status: next.status,
      nextAttemptAtMs: next.nextAttemptAtMs,
      deliveredAtMs: next.status === "delivered" ? attempt.atMs : null,
    })
    .where(
      and(
        eq(grantDeliveries.accountId, accountId),
        eq(grantDeliveries.id, delivery.id),
        eq(grantDeliveries.attemptsJson, JSON.stringify(delivery.attempts)),
      ),
    )
    .returning({ id: grantDeliveries.id });
  return rows.length > 0;
}

/** When the next pending delivery is due (epoch ms), or null. */
export async function nextDeliveryDueAtMs(db: Db, accountId: string): Promise<number | null> {
  const rows = await db
    .select({ at: min(grantDeliveries.nextAttemptAtMs) })
    .from(grantDeliveries)
    .where(
      and(
        eq(grantDeliveries.accountId, accountId),
        eq(grantDeliveries.status, "pending"),
        isNotNull(grantDeliveries.nextAttemptAtMs),
      ),
    );
  return rows[0]?.at ?? null;
}
