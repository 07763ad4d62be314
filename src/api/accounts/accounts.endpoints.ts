/** Contracts of the account endpoints. */
import { createRoute } from "@hono/zod-openapi";
import { AccountParams, IfMatchHeaders, problemResponses, security } from "../contract";
import { Account, AccountCreate, AccountUpdate } from "./accounts.schemas";
import { AccountSummaryPage, OverviewQuery } from "./overview.schemas";

const tags = ["Accounts"];
const json = (description: string) => ({
  description,
  content: { "application/json": { schema: Account } },
});

export const create = createRoute({
  method: "post",
  path: "/v1/accounts",
  operationId: "createAccount",
  tags,
  security,
  summary: "Register a Cloudflare account",
  request: { body: { required: true, content: { "application/json": { schema: AccountCreate } } } },
  responses: {
    201: json("Registered"),
    ...problemResponses("malformed-request", "account-exists", "validation-failed"),
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}",
  operationId: "getAccount",
  tags,
  security,
  summary: "Get an account",
  request: { params: AccountParams },
  responses: {
    200: json("The account (never its token)"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const update = createRoute({
  method: "patch",
  path: "/v1/accounts/{account_id}",
  operationId: "updateAccount",
  tags,
  security,
  summary: "Change an account's name, mode, interval, team domain or API token",
  request: {
    params: AccountParams,
    headers: IfMatchHeaders,
    body: { required: true, content: { "application/json": { schema: AccountUpdate } } },
  },
  responses: {
    200: json("Changed"),
    ...problemResponses("malformed-request", "not-found", "version-mismatch", "validation-failed"),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/accounts",
  operationId: "listAccounts",
  tags,
  security,
  summary: "List the accounts the caller may see, each with its state, last run, lease and drift",
  request: { query: OverviewQuery },
  responses: {
    200: {
      description: "A page in account id order",
      content: { "application/json": { schema: AccountSummaryPage } },
    },
    ...problemResponses("validation-failed"),
  },
});
