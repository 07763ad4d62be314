/**
 * Event webhooks: an account's subscriptions (URL, event patterns, format, sealed signing
 * secret) and one delivery per event and subscription, attempted through the queue.
 * This file must not import from `cloudflare:*` (drizzle-kit loads it in Node).
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const eventSubscriptions = sqliteTable(
  "event_subscriptions",
  {
    accountId: text("account_id").notNull(),
    id: text("id").notNull(),
    version: integer("version").notNull(),
    url: text("url").notNull(),
    /** JSON array of event types and patterns (`grant.*`, `*`). */
    eventsJson: text("events_json").notNull(),
    format: text("format", { enum: ["json", "slack"] }).notNull(),
    description: text("description"),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** The HMAC signing secret, sealed (lib/key-ring); never returned. */
    secretCiphertext: text("secret_ciphertext").notNull(),
    /** The last delivery's outcome: `delivered`, `retrying` or `failed`; null before any. */
    lastDeliveryStatus: text("last_delivery_status", {
      enum: ["delivered", "retrying", "failed"],
    }),
    lastDeliveryAtMs: integer("last_delivery_at_ms"),
    lastDeliveryStatusCode: integer("last_delivery_status_code"),
    lastDeliveryError: text("last_delivery_error"),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("event_subscriptions_pk").on(t.accountId, t.id),
    index("event_subscriptions_account_created").on(t.accountId, t.createdAtMs, t.id),
  ],
);

/** One event for one subscription; the body is fixed when the event happens. */
export const eventDeliveries = sqliteTable(
  "event_deliveries",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    subscriptionId: text("subscription_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    /** The exact body sent on every attempt (the event, or its Slack message). */
    payloadJson: text("payload_json").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    /** JSON array of { atMs, statusCode, error }. */
    attemptsJson: text("attempts_json").notNull(),
    nextAttemptAtMs: integer("next_attempt_at_ms"),
    deliveredAtMs: integer("delivered_at_ms"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("event_deliveries_subscription").on(t.accountId, t.subscriptionId, t.createdAtMs, t.id),
    // The cron's sweep of pending deliveries whose queue message never came.
    index("event_deliveries_due").on(t.status, t.nextAttemptAtMs),
  ],
);
