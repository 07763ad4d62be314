/** Contracts of who-can-reach and reachable-by. */
import { createRoute, type z } from "@hono/zod-openapi";
import { AccountParams, problemResponses, security } from "../contract";
import {
  ReachableByInput,
  ReachableByResult,
  WhoCanReachInput,
  WhoCanReachResult,
} from "./access.schemas";

const tags = ["Explain"];
const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const budgetNote =
  "Exact over the desired policies (stored, private apps, active grants); refused with 422 `limit-exceeded` when its work (atoms × identity classes + atoms × the policies evaluated at them) passes the account's `work_units`.";

export const whoCanReach = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/who-can-reach",
  operationId: "whoCanReach",
  tags,
  security,
  summary: "Every identity class allowed to reach a destination, and by which policy",
  description: budgetNote,
  request: {
    params: AccountParams,
    body: { required: true, content: { "application/json": { schema: WhoCanReachInput } } },
  },
  responses: {
    200: json(WhoCanReachResult, "Who is allowed, where, and by which policy"),
    ...problemResponses("malformed-request", "not-found", "validation-failed", "limit-exceeded"),
  },
});

export const reachableBy = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/reachable-by",
  operationId: "reachableBy",
  tags,
  security,
  summary: "Every destination range, port and protocol one person may reach",
  description: budgetNote,
  request: {
    params: AccountParams,
    body: { required: true, content: { "application/json": { schema: ReachableByInput } } },
  },
  responses: {
    200: json(ReachableByResult, "What the person may reach, and by which policy"),
    ...problemResponses("malformed-request", "not-found", "validation-failed", "limit-exceeded"),
  },
});
