/** Contracts of callback receivers: one signing secret per ticket system of an account. */
import { createRoute, z } from "@hono/zod-openapi";
import { AccountParams, problemResponses, security } from "../contract";
import { CallbackReceiver, CallbackReceiverInput, ReceiverParams } from "./grant-settings.schemas";

const tags = ["Grants"];
const base = "/v1/accounts/{account_id}/grant-settings/receivers";

export const listReceivers = createRoute({
  method: "get",
  path: base,
  operationId: "listCallbackReceivers",
  tags,
  security,
  summary: "Ticket systems with their own callback secret (never the secrets)",
  request: { params: AccountParams },
  responses: {
    200: {
      description: "Every receiver of the account, by ticket system",
      content: {
        "application/json": { schema: z.object({ items: z.array(CallbackReceiver) }) },
      },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const putReceiver = createRoute({
  method: "put",
  path: `${base}/{ticket_system}`,
  operationId: "putCallbackReceiver",
  tags,
  security,
  summary: "Set or rotate the callback secret of one ticket system",
  description:
    "Callbacks of grants whose ticket.system is this one are signed with this secret instead of the account's; a replaced secret keeps signing beside the new one for previous_secret_valid_for_s.",
  request: {
    params: ReceiverParams,
    body: { required: true, content: { "application/json": { schema: CallbackReceiverInput } } },
  },
  responses: {
    200: { description: "Stored", content: { "application/json": { schema: CallbackReceiver } } },
    ...problemResponses("malformed-request", "not-found", "validation-failed"),
  },
});

export const deleteReceiver = createRoute({
  method: "delete",
  path: `${base}/{ticket_system}`,
  operationId: "deleteCallbackReceiver",
  tags,
  security,
  summary: "Remove a ticket system's own secret (its callbacks use the account's again)",
  request: { params: ReceiverParams },
  responses: {
    204: { description: "Deleted" },
    ...problemResponses("not-found", "validation-failed"),
  },
});
