/** Contracts of the grant endpoints. */
import { createRoute, z } from "@hono/zod-openapi";
import { GRANT_STATES } from "../../domain/grants/grant";
import {
  AccountParams,
  ObjectParams,
  PageQuery,
  pageOf,
  problemResponses,
  security,
} from "../contract";
import { GrantSettings, GrantSettingsInput } from "./grant-settings.schemas";
import { DecisionInput, GrantEvent, GrantInput, GrantResource } from "./grants.schemas";

const tags = ["Grants"];
const base = "/v1/accounts/{account_id}/grants";
const json = <S extends z.ZodTypeAny>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const create = createRoute({
  method: "post",
  path: base,
  operationId: "createGrant",
  tags,
  security,
  summary: "Request a time-bound access grant",
  description:
    "Decided at once by the approval rules and the path check; a started, approved grant is active and its policy created before the response. With `Idempotency-Key`, a retry with the same body returns the same grant (200).",
  request: {
    params: AccountParams,
    headers: z.object({
      "idempotency-key": z.string().optional().openapi({
        description: "Makes retries safe: same key and body, same grant (24 hours).",
      }),
    }),
    body: { required: true, content: { "application/json": { schema: GrantInput } } },
  },
  responses: {
    201: json(GrantResource, "Created"),
    200: json(GrantResource, "A retry with the same Idempotency-Key: the stored response"),
    ...problemResponses(
      "malformed-request",
      "not-found",
      "idempotency-key-reused",
      "idempotency-key-in-progress",
      "validation-failed",
    ),
  },
});

export const list = createRoute({
  method: "get",
  path: base,
  operationId: "listGrants",
  tags,
  security,
  summary: "List grants, oldest first",
  request: {
    params: AccountParams,
    query: PageQuery.extend({
      state: z.enum(GRANT_STATES).optional(),
      subject_email: z.string().max(254).optional().openapi({ description: "Exact, any case." }),
      ticket_system: z.string().max(64).optional(),
      ticket_id: z.string().max(128).optional(),
    }),
  },
  responses: {
    200: json(pageOf(GrantResource, "GrantPage"), "A page"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const get = createRoute({
  method: "get",
  path: `${base}/{id}`,
  operationId: "getGrant",
  tags,
  security,
  summary: "Get a grant with its check, policy and callback deliveries",
  request: { params: ObjectParams },
  responses: {
    200: json(GrantResource, "The grant"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const events = createRoute({
  method: "get",
  path: `${base}/{id}/events`,
  operationId: "listGrantEvents",
  tags,
  security,
  summary: "The audit trail of a grant: every transition, who, when and why",
  request: { params: ObjectParams },
  responses: {
    200: json(z.object({ items: z.array(GrantEvent) }).openapi("GrantEventList"), "Oldest first"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

function decision(event: "approve" | "reject" | "revoke" | "cancel", summary: string) {
  return createRoute({
    method: "post",
    path: `${base}/{id}/${event}`,
    operationId: `${event}Grant`,
    tags,
    security,
    summary,
    request: {
      params: ObjectParams,
      body: { required: false, content: { "application/json": { schema: DecisionInput } } },
    },
    responses: {
      200: json(GrantResource, "The grant after the transition"),
      ...problemResponses(
        "malformed-request",
        "forbidden",
        "not-found",
        "grant-transition-refused",
        "version-mismatch",
        "validation-failed",
      ),
    },
  });
}

export const approve = decision("approve", "Approve a requested grant (operator)");
export const reject = decision("reject", "Reject a requested grant (operator)");
export const revoke = decision("revoke", "End an approved or active grant now (operator)");
export const cancel = decision("cancel", "Withdraw a grant before it starts (requester)");

export const getSettings = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/grant-settings",
  operationId: "getGrantSettings",
  tags,
  security,
  summary: "Callback settings: whether a secret is set (never the secret), its rotation, ports",
  request: { params: AccountParams },
  responses: {
    200: json(GrantSettings, "The settings"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const putSettings = createRoute({
  method: "put",
  path: "/v1/accounts/{account_id}/grant-settings",
  operationId: "putGrantSettings",
  tags,
  security,
  summary: "Set or rotate the callback signing secret and the allowed callback ports",
  request: {
    params: AccountParams,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: GrantSettingsInput,
        },
      },
    },
  },
  responses: {
    200: json(GrantSettings, "Stored"),
    ...problemResponses("malformed-request", "not-found", "validation-failed"),
  },
});
