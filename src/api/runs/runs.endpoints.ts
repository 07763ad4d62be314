/** Contracts of plan, reconcile and run history. */
import { createRoute, z } from "@hono/zod-openapi";
import {
  AccountIdParam,
  AccountParams,
  PageQuery,
  pageOf,
  problemResponses,
  security,
} from "../contract";
import { PlanResult, Run } from "./runs.schemas";

const tags = ["Reconciliation"];
const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const plan = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/plan",
  operationId: "planAccount",
  tags,
  security,
  summary: "Dry run: observe Cloudflare and return the actions a reconcile would take",
  request: { params: AccountParams },
  responses: {
    200: json(
      PlanResult,
      "The plan; nothing was written to Cloudflare. Kinds the API token may not read are left out and listed in `skipped` (also recorded as the account's token_problems)",
    ),
    ...problemResponses("not-found", "validation-failed", "limit-exceeded", "upstream-failed"),
  },
});

export const reconcile = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/reconcile",
  operationId: "reconcileAccount",
  tags,
  security,
  summary: "Reconcile the account now",
  request: { params: AccountParams },
  responses: {
    200: json(Run, "The finished run (its outcome may be failed or partial)"),
    ...problemResponses("not-found", "lease-held", "validation-failed"),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/runs",
  operationId: "listRuns",
  tags,
  security,
  summary: "List runs, newest first",
  request: { params: AccountParams, query: PageQuery },
  responses: {
    200: json(pageOf(Run, "RunPage"), "A page of runs"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/runs/{run_id}",
  operationId: "getRun",
  tags,
  security,
  summary: "Get one run",
  request: {
    params: z.object({
      account_id: AccountIdParam,
      run_id: z
        .string()
        .max(64)
        .openapi({ param: { name: "run_id", in: "path" } }),
    }),
  },
  responses: { 200: json(Run, "The run"), ...problemResponses("not-found", "validation-failed") },
});
