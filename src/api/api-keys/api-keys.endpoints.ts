/** Contracts of `/v1/api-keys`, `/v1/access-role-bindings` and `/v1/whoami` (no logic). */
import { createRoute, z } from "@hono/zod-openapi";
import { ObjectIdParam, PageQuery, pageOf, problemResponses, security } from "../contract";
import {
  AccessRoleBinding,
  AccessRoleBindingInput,
  ApiKey,
  ApiKeyCreated,
  ApiKeyInput,
  WhoAmI,
} from "./api-keys.schemas";

const json = <S extends z.ZodTypeAny>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const IdParams = z.object({ id: ObjectIdParam });
const keyTags = ["API keys"];
const bindingTags = ["Access role bindings"];

export const createKey = createRoute({
  method: "post",
  path: "/v1/api-keys",
  operationId: "createApiKey",
  tags: keyTags,
  security,
  summary: "Create an API key (admin); the secret is in this response only",
  request: {
    body: { required: true, content: { "application/json": { schema: ApiKeyInput } } },
  },
  responses: {
    201: json(ApiKeyCreated, "Created; keep `secret`, it is not shown again"),
    ...problemResponses("malformed-request", "name-taken", "validation-failed"),
  },
});

export const listKeys = createRoute({
  method: "get",
  path: "/v1/api-keys",
  operationId: "listApiKeys",
  tags: keyTags,
  security,
  summary: "List API keys, oldest first, revoked ones included (never a secret)",
  request: { query: PageQuery },
  responses: {
    200: json(pageOf(ApiKey, "ApiKeyPage"), "A page"),
    ...problemResponses("validation-failed"),
  },
});

export const getKey = createRoute({
  method: "get",
  path: "/v1/api-keys/{id}",
  operationId: "getApiKey",
  tags: keyTags,
  security,
  summary: "Get an API key (never its secret)",
  request: { params: IdParams },
  responses: { 200: json(ApiKey, "The key"), ...problemResponses("not-found") },
});

export const revokeKey = createRoute({
  method: "delete",
  path: "/v1/api-keys/{id}",
  operationId: "revokeApiKey",
  tags: keyTags,
  security,
  summary: "Revoke an API key at once (it stays listed, with revoked_at)",
  request: { params: IdParams },
  responses: { 204: { description: "Revoked" }, ...problemResponses("not-found") },
});

export const createBinding = createRoute({
  method: "post",
  path: "/v1/access-role-bindings",
  operationId: "createAccessRoleBinding",
  tags: bindingTags,
  security,
  summary: "Give the person with this Cloudflare Access email a role (admin)",
  request: {
    body: { required: true, content: { "application/json": { schema: AccessRoleBindingInput } } },
  },
  responses: {
    201: json(AccessRoleBinding, "Created"),
    ...problemResponses("malformed-request", "name-taken", "validation-failed"),
  },
});

export const listBindings = createRoute({
  method: "get",
  path: "/v1/access-role-bindings",
  operationId: "listAccessRoleBindings",
  tags: bindingTags,
  security,
  summary: "List Access role bindings, oldest first",
  request: { query: PageQuery },
  responses: {
    200: json(pageOf(AccessRoleBinding, "AccessRoleBindingPage"), "A page"),
    ...problemResponses("validation-failed"),
  },
});

export const deleteBinding = createRoute({
  method: "delete",
  path: "/v1/access-role-bindings/{id}",
  operationId: "deleteAccessRoleBinding",
  tags: bindingTags,
  security,
  summary: "Remove an Access role binding (the person's next request is refused)",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses("not-found") },
});

export const whoAmI = createRoute({
  method: "get",
  path: "/v1/whoami",
  operationId: "whoAmI",
  tags: keyTags,
  security,
  summary: "The caller's identity: actor name, role, accounts, ticket system",
  responses: { 200: json(WhoAmI, "The caller"), ...problemResponses() },
});
