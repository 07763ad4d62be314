/** Contracts of event subscriptions: signed webhooks for an account's events. */
import { createRoute, type z } from "@hono/zod-openapi";
import {
  AccountParams,
  IfMatchHeaders,
  ObjectParams,
  PageQuery,
  pageOf,
  problemResponses,
  security,
} from "../contract";
import {
  CreatedSubscription,
  EventDelivery,
  Subscription,
  SubscriptionInput,
  SubscriptionPatch,
} from "./event-subscriptions.schemas";

const tags = ["Events"];
const base = "/v1/accounts/{account_id}/event-subscriptions";
const json = <S extends z.ZodTypeAny>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const list = createRoute({
  method: "get",
  path: base,
  operationId: "listEventSubscriptions",
  tags,
  security,
  summary: "List event subscriptions, oldest first (never their secrets)",
  request: { params: AccountParams, query: PageQuery },
  responses: {
    200: json(pageOf(Subscription, "EventSubscriptionPage"), "A page"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const create = createRoute({
  method: "post",
  path: base,
  operationId: "createEventSubscription",
  tags,
  security,
  summary: "Subscribe a webhook to the account's events",
  description:
    "Each event the patterns select is POSTed to the URL through the queue, signed like grant callbacks (X-Tunnelplane-Signature over `<timestamp>.<delivery id>.<event>.<body>`), retried with backoff. At most `event_subscriptions` (a quota, 20 by default) per account: past it, 422 `limit-exceeded`.",
  request: {
    params: AccountParams,
    body: { required: true, content: { "application/json": { schema: SubscriptionInput } } },
  },
  responses: {
    201: json(CreatedSubscription, "Created; `secret` only when generated"),
    ...problemResponses("malformed-request", "not-found", "validation-failed", "limit-exceeded"),
  },
});

export const get = createRoute({
  method: "get",
  path: `${base}/{id}`,
  operationId: "getEventSubscription",
  tags,
  security,
  summary: "Get an event subscription with its last delivery",
  request: { params: ObjectParams },
  responses: {
    200: json(Subscription, "The subscription; ETag is its version"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const update = createRoute({
  method: "patch",
  path: `${base}/{id}`,
  operationId: "updateEventSubscription",
  tags,
  security,
  summary: "Change an event subscription (URL, events, format, enabled, secret)",
  request: {
    params: ObjectParams,
    headers: IfMatchHeaders,
    body: { required: true, content: { "application/json": { schema: SubscriptionPatch } } },
  },
  responses: {
    200: json(Subscription, "Changed"),
    ...problemResponses("malformed-request", "not-found", "version-mismatch", "validation-failed"),
  },
});

export const remove = createRoute({
  method: "delete",
  path: `${base}/{id}`,
  operationId: "deleteEventSubscription",
  tags,
  security,
  summary: "Delete an event subscription and its deliveries",
  request: { params: ObjectParams, headers: IfMatchHeaders },
  responses: {
    204: { description: "Deleted" },
    ...problemResponses("not-found", "version-mismatch", "validation-failed"),
  },
});

export const deliveries = createRoute({
  method: "get",
  path: `${base}/{id}/deliveries`,
  operationId: "listEventDeliveries",
  tags,
  security,
  summary: "List a subscription's deliveries, newest first, with every attempt",
  request: { params: ObjectParams, query: PageQuery },
  responses: {
    200: json(pageOf(EventDelivery, "EventDeliveryPage"), "A page"),
    ...problemResponses("not-found", "validation-failed"),
  },
});
