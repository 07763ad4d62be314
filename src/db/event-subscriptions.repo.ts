/**
 * Event subscriptions of an account. The signing secret is sealed and read only to sign; the
 * last delivery's outcome is kept on the subscription so it can be seen at a glance.
 */
import { and, asc, count, eq, gt, inArray, or } from "drizzle-orm";
import type { Db } from "./client";
import type { CursorPosition } from "./pagination";
import { eventDeliveries, eventSubscriptions } from "./schema";

/** The outcome of a subscription's last delivery attempt. */
export interface LastDelivery {
  status: "delivered" | "retrying" | "failed";
  /** When the attempt was made, epoch ms. */
  atMs: number;
  /** The receiver's HTTP status, or null when none came. */
  statusCode: number | null;
  error: string | null;
}

/** A subscription as the API shows it: never its secret. */
export interface SubscriptionRecord {
  accountId: string;
  id: string;
  version: number;
  url: string;
  /** Event types and patterns. */
  events: string[];
  format: "json" | "slack";
  description: string | null;
  enabled: boolean;
  lastDelivery: LastDelivery | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** What a create or update sets. */
export type SubscriptionFields = Pick<
  SubscriptionRecord,
  "url" | "events" | "format" | "description" | "enabled"
>;

const columns = {
  accountId: eventSubscriptions.accountId,
  id: eventSubscriptions.id,
  version: eventSubscriptions.version,
  url: eventSubscriptions.url,
  eventsJson: eventSubscriptions.eventsJson,
  format: eventSubscriptions.format,
  description: eventSubscriptions.description,
  enabled: eventSubscriptions.enabled,
  lastDeliveryStatus: eventSubscriptions.lastDeliveryStatus,
  lastDeliveryAtMs: eventSubscriptions.lastDeliveryAtMs,
  lastDeliveryStatusCode: eventSubscriptions.lastDeliveryStatusCode,
  lastDeliveryError: eventSubscriptions.lastDeliveryError,
  createdAtMs: eventSubscriptions.createdAtMs,
  updatedAtMs: eventSubscriptions.updatedAtMs,
};

type Row = Omit<typeof eventSubscriptions.$inferSelect, "secretCiphertext">;

function fromRow(row: Row): SubscriptionRecord {
  return {
    accountId: row.accountId,
    id: row.id,
    version: row.version,
    url: row.url,
    events: JSON.parse(row.eventsJson) as string[],
    format: row.format,
    description: row.description,
    enabled: row.enabled,
    lastDelivery:
      row.lastDeliveryStatus === null || row.lastDeliveryAtMs === null
        ? null
        : {
            status: row.lastDeliveryStatus,
            atMs: row.lastDeliveryAtMs,
            statusCode: row.lastDeliveryStatusCode,
            error: row.lastDeliveryError,
          },
    createdAtMs: row.createdAtMs,
    updatedAtMs: row.updatedAtMs,
  };
}

const pk = (accountId: string, id: string) =>
  and(eq(eventSubscriptions.accountId, accountId), eq(eventSubscriptions.id, id));

/** Inserts a subscription (version 1) with its sealed secret. */
export async function insertSubscription(
  db: Db,
  accountId: string,
  id: string,
  fields: SubscriptionFields,
  sealedSecret: string,
  nowMs: number,
): Promise<SubscriptionRecord> {
  const rows = await db
    .insert(eventSubscriptions)
    .values({
      accountId,
      id,
      version: 1,
      url: fields.url,
      eventsJson: JSON.stringify(fields.events),
      format: fields.format,
      description: fields.description,
      enabled: fields.enabled,
      secretCiphertext: sealedSecret,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    })
    .returning(columns);
  const row = rows[0];
  if (row === undefined) {
    throw new Error(`subscription ${id} was not inserted`);
  }
  return fromRow(row);
}

/** One subscription, or undefined (missing or another account's). */
export async function getSubscription(
  db: Db,
  accountId: string,
  id: string,
): Promise<SubscriptionRecord | undefined> {
  const rows = await db.select(columns).from(eventSubscriptions).where(pk(accountId, id));
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** A page of subscriptions in creation order, `limit + 1` rows for paging. */
export async function listSubscriptions(
  db: Db,
  accountId: string,
  after: CursorPosition | undefined,
  limit: number,
): Promise<SubscriptionRecord[]> {
  const rows = await db
    .select(columns)
    .from(eventSubscriptions)
    .where(
      and(
        eq(eventSubscriptions.accountId, accountId),
        after === undefined
          ? undefined
          : or(
              gt(eventSubscriptions.createdAtMs, after.atMs),
              and(
                eq(eventSubscriptions.createdAtMs, after.atMs),
                gt(eventSubscriptions.id, after.id),
              ),
            ),
      ),
    )
    .orderBy(asc(eventSubscriptions.createdAtMs), asc(eventSubscriptions.id))
    .limit(limit + 1);
  return rows.map(fromRow);
}

/** How many subscriptions the account has, enabled or not (what `event_subscriptions` bounds). */
export async function countSubscriptions(db: Db, accountId: string): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(eventSubscriptions)
    .where(eq(eventSubscriptions.accountId, accountId));
  return rows[0]?.n ?? 0;
}

/** The account's enabled subscriptions: whom an event goes to. */
export async function listEnabledSubscriptions(
  db: Db,
  accountId: string,
): Promise<SubscriptionRecord[]> {
  const rows = await db
    .select(columns)
    .from(eventSubscriptions)
    .where(and(eq(eventSubscriptions.accountId, accountId), eq(eventSubscriptions.enabled, true)))
    .orderBy(asc(eventSubscriptions.createdAtMs), asc(eventSubscriptions.id));
  return rows.map(fromRow);
}

/**
 * Replaces the fields (and the secret, when `sealedSecret` is given) of a subscription still at
 * `version`.
 * @returns the updated subscription, or undefined when it is missing or its version moved on.
 */
export async function updateSubscription(
  db: Db,
  accountId: string,
  id: string,
  version: number,
  fields: SubscriptionFields,
  sealedSecret: string | undefined,
  nowMs: number,
): Promise<SubscriptionRecord | undefined> {
  const rows = await db
    .update(eventSubscriptions)
    .set({
      version: version + 1,
      url: fields.url,
      eventsJson: JSON.stringify(fields.events),
      format: fields.format,
      description: fields.description,
      enabled: fields.enabled,
      ...(sealedSecret === undefined ? {} : { secretCiphertext: sealedSecret }),
      updatedAtMs: nowMs,
    })
    .where(and(pk(accountId, id), eq(eventSubscriptions.version, version)))
    .returning(columns);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/**
 * Deletes a subscription still at `version` (any version when undefined) and its deliveries.
 * @returns whether it was deleted.
 */
export async function deleteSubscription(
  db: Db,
  accountId: string,
  id: string,
  version: number | undefined,
): Promise<boolean> {
  const which = and(
    pk(accountId, id),
    version === undefined ? undefined : eq(eventSubscriptions.version, version),
  );
  // Deliveries first, through the same condition: a stale If-Match leaves both in place.
  const [, rows] = await db.batch([
    db
      .delete(eventDeliveries)
      .where(
        and(
          eq(eventDeliveries.accountId, accountId),
          inArray(
            eventDeliveries.subscriptionId,
            db.select({ id: eventSubscriptions.id }).from(eventSubscriptions).where(which),
          ),
        ),
      ),
    db.delete(eventSubscriptions).where(which).returning({ id: eventSubscriptions.id }),
  ]);
  return rows.length > 0;
}

/** The sealed signing secret of a subscription, or undefined when it is gone. */
export async function getSealedSubscriptionSecret(
  db: Db,
  accountId: string,
  id: string,
): Promise<string | undefined> {
  const rows = await db
    .select({ sealed: eventSubscriptions.secretCiphertext })
    .from(eventSubscriptions)
    .where(pk(accountId, id));
  return rows[0]?.sealed;
}
