/** Contracts of the account-wide conflict list and the client LAN check. */
import { createRoute, type z } from "@hono/zod-openapi";
import { AccountParams, problemResponses, security } from "../contract";
import { ClientLanInput, ClientLanResult, ConflictList } from "./conflicts.schemas";

const tags = ["Conflicts"];
const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const list = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/conflicts",
  operationId: "listConflicts",
  tags,
  security,
  summary: "Every conflict and warning in the account's desired state",
  description:
    "Route duplicates, routes of different tunnels nested in each other, routes in Cloudflare's reserved ranges, routes overlapping common home LANs, then the split tunnel problems of the default profile and of each device profile (by precedence). Computed from the desired state; Cloudflare is not called.",
  request: { params: AccountParams },
  responses: {
    200: json(ConflictList, "The conflicts, routes first, then profiles"),
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const checkClientLan = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/conflicts/check-client-lan",
  operationId: "checkClientLan",
  tags,
  security,
  summary: "Which routes a user's home network would shadow",
  description:
    "Traffic to the local subnet never enters WARP, so the part of each route inside the LAN is unreachable for a user on it.",
  request: {
    params: AccountParams,
    body: { required: true, content: { "application/json": { schema: ClientLanInput } } },
  },
  responses: {
    200: json(ClientLanResult, "The routes the LAN shadows, in creation order"),
    ...problemResponses("malformed-request", "not-found", "validation-failed"),
  },
});
