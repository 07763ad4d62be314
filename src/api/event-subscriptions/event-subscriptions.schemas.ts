/** Wire shapes of event subscriptions and their deliveries (snake_case, RFC 3339 instants). */
import { z } from "@hono/zod-openapi";
import type { EventDeliveryRecord } from "../../db/event-deliveries.repo";
import type { SubscriptionRecord } from "../../db/event-subscriptions.repo";
import { EVENT_TYPES, isEventPattern } from "../../domain/events/events";
import { redactUrl } from "../../lib/redact";
import { CallbackSecret, CallbackUrl } from "../schemas/callbacks";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const EventPattern = z
  .string()
  .max(64)
  .refine(isEventPattern, {
    message: `an event type (${EVENT_TYPES.join(", ")}), <family>.* or *`,
    params: { code: "unknown-event" },
  })
  .openapi({ example: "grant.*" });

const fields = {
  url: CallbackUrl.openapi({
    description:
      "https URL to a public host, the same rules as grant callback URLs (port 443 or one listed in grant-settings callback_allowed_ports).",
    example: "https://hooks.example.com/tunnelplane",
  }),
  events: z
    .array(EventPattern)
    .min(1)
    .max(32)
    .refine((events) => new Set(events).size === events.length, "each pattern once")
    .openapi({
      description: `Event types or patterns: ${EVENT_TYPES.join(", ")}; \`grant.*\`, \`drift.*\`, \`run.*\`, \`desired_state.*\`, or \`*\` for all.`,
      example: ["drift.*", "run.failed", "grant.*"],
    }),
  format: z.enum(["json", "slack"]).openapi({
    description:
      "json: the event itself. slack: a Slack-compatible incoming-webhook body `{text, blocks}`.",
  }),
  description: z.string().trim().max(500).nullable().openapi({ example: "Ops channel" }),
  enabled: z.boolean().openapi({ description: "A disabled subscription receives nothing." }),
};

/** `POST event-subscriptions`. */
export const SubscriptionInput = z
  .strictObject({
    url: fields.url,
    events: fields.events,
    format: fields.format.default("json"),
    description: fields.description.default(null),
    enabled: fields.enabled.default(true),
    secret: CallbackSecret.optional().openapi({
      description:
        "Write-only signing secret (32..256 printable ASCII). Omitted: tunnelplane generates one and returns it once, in the create response.",
    }),
  })
  .openapi("EventSubscriptionInput");

/** `PATCH event-subscriptions/{id}`: the fields given are replaced. */
export const SubscriptionPatch = z
  .strictObject({
    url: fields.url.optional(),
    events: fields.events.optional(),
    format: fields.format.optional(),
    description: fields.description.optional(),
    enabled: fields.enabled.optional(),
    secret: CallbackSecret.optional().openapi({
      description: "Write-only; replaces the signing secret at once.",
    }),
  })
  .openapi("EventSubscriptionPatch");

export const Subscription = z
  .object({
    id: z.string(),
    version: z.number().int(),
    url: z.string().openapi({
      description:
        "The full URL for admins. Other roles, and the audit log's before/after for everyone, see only its scheme and host (`https://hooks.slack.com/…`): a webhook URL's path is often its credential.",
      example: "https://hooks.example.com/tunnelplane",
    }),
    events: z.array(z.string()),
    format: z.enum(["json", "slack"]),
    description: z.string().nullable(),
    enabled: z.boolean(),
    last_delivery: z
      .object({
        status: z.enum(["delivered", "retrying", "failed"]),
        at: z.string(),
        status_code: z.number().int().nullable(),
        error: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: "The last attempt's outcome, or null before any." }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("EventSubscription");

/** The create response: the subscription, and the secret when tunnelplane generated it. */
export const CreatedSubscription = Subscription.extend({
  secret: z.string().optional().openapi({
    description: "The generated signing secret; shown this once, never again.",
  }),
}).openapi("CreatedEventSubscription");

export const EventDelivery = z
  .object({
    id: z.string().openapi({ description: "Sent as X-Tunnelplane-Delivery." }),
    event_id: z.string(),
    event_type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.array(
      z.object({
        at: z.string(),
        status_code: z.number().int().nullable(),
        error: z.string().nullable(),
      }),
    ),
    next_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("EventDelivery");

/**
 * The wire form of a subscription; `fullUrl` false (any caller but an admin, and the audit log)
 * cuts the URL to scheme and host (`redactUrl`).
 */
export function toSubscriptionResource(
  s: SubscriptionRecord,
  fullUrl: boolean,
): z.input<typeof Subscription> {
  return {
    id: s.id,
    version: s.version,
    url: fullUrl ? s.url : redactUrl(s.url),
    events: s.events,
    format: s.format,
    description: s.description,
    enabled: s.enabled,
    last_delivery:
      s.lastDelivery === null
        ? null
        : {
            status: s.lastDelivery.status,
            at: new Date(s.lastDelivery.atMs).toISOString(),
            status_code: s.lastDelivery.statusCode,
            error: s.lastDelivery.error,
          },
    created_at: new Date(s.createdAtMs).toISOString(),
    updated_at: new Date(s.updatedAtMs).toISOString(),
  };
}

export function toDeliveryResource(d: EventDeliveryRecord): z.input<typeof EventDelivery> {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts.map((a) => ({
      at: new Date(a.atMs).toISOString(),
      status_code: a.statusCode,
      error: a.error,
    })),
    next_attempt_at: iso(d.nextAttemptAtMs),
    delivered_at: iso(d.deliveredAtMs),
    created_at: new Date(d.createdAtMs).toISOString(),
  };
}
