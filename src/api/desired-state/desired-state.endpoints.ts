/** Contracts of the desired-state document: export, diff and atomic apply. */
import { createRoute, z } from "@hono/zod-openapi";
import { AccountParams, problemResponses, security } from "../contract";
import { DesiredStateApplyResult, DesiredStateDiff } from "./desired-state.schemas";
import { DesiredStateDocument } from "./document.schemas";

const tags = ["Desired state"];

/** The document as a request body: JSON, or YAML with `Content-Type: application/yaml`. */
const documentBody = {
  // Not `required`: a YAML body bypasses the JSON validator and is validated by the handler
  // against the same schema, with the same problem.
  required: false,
  description: "The whole desired state, as `GET desired-state` exports it (JSON or YAML).",
  content: {
    "application/json": { schema: DesiredStateDocument },
    "application/yaml": { schema: DesiredStateDocument },
  },
};

const PruneQuery = z.object({
  prune: z.enum(["true", "false"]).default("true").openapi({
    description:
      "false: keep the account's objects the document does not mention (the default deletes them).",
  }),
});

export const exportDocument = createRoute({
  method: "get",
  path: "/v1/accounts/{account_id}/desired-state",
  operationId: "getDesiredState",
  tags,
  security,
  summary: "Export every desired object of the account as one document",
  description:
    "Objects refer to each other by name, so the document applies to another account. Grant approval rules are; grants and secrets are not part of it. `Accept: application/yaml` answers YAML. The JSON Schema is at /schemas/desired-state.json.",
  request: { params: AccountParams },
  responses: {
    200: {
      description: "The document; ETag is its version",
      content: {
        "application/json": { schema: DesiredStateDocument },
        "application/yaml": { schema: DesiredStateDocument },
      },
    },
    ...problemResponses("not-found", "validation-failed"),
  },
});

export const diff = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/desired-state/diff",
  operationId: "diffDesiredState",
  tags,
  security,
  summary: "What applying a document would do, without storing anything",
  description:
    "The object changes with field diffs, every problem with its JSON pointer, the conflicts and assertions of the resulting state, and the Cloudflare plan with its access delta. A document the schema refuses is a 422 as for any write.",
  request: {
    params: AccountParams,
    query: PruneQuery.extend({
      plan: z
        .enum(["true", "false"])
        .default("true")
        .openapi({ description: "false: skip reading Cloudflare (no plan, no access delta)." }),
    }),
    body: documentBody,
  },
  responses: {
    200: {
      description: "The diff; nothing was written",
      content: { "application/json": { schema: DesiredStateDiff } },
    },
    ...problemResponses(
      "malformed-request",
      "unsupported-media-type",
      "not-found",
      "validation-failed",
      "limit-exceeded",
    ),
  },
});

export const apply = createRoute({
  method: "put",
  path: "/v1/accounts/{account_id}/desired-state",
  operationId: "applyDesiredState",
  tags,
  security,
  summary: "Apply a whole document atomically",
  description:
    "All of it in one D1 transaction, or nothing: a problem, an error conflict or a failing assertion refuses it with a 422 whose `errors` are the diff's problems and whose `diff` extension is the diff. `If-Match` names the document version the change was reviewed against; a pruning apply (the default) without it is refused with a 428 and changes nothing. One audit entry records the document hash and the change summary, and the account is due for a reconcile at once.",
  request: {
    params: AccountParams,
    query: PruneQuery,
    headers: z.object({
      "if-match": z.string().max(200).optional().openapi({
        description:
          'The document version expected, quoted (`"<version>"`); `*`: any. Required when pruning (the default): a pruning apply without it is a 428; with `prune=false` absent means any.',
      }),
    }),
    body: documentBody,
  },
  responses: {
    200: {
      description: "Applied (or nothing to change); ETag is the new version",
      content: { "application/json": { schema: DesiredStateApplyResult } },
    },
    ...problemResponses(
      "malformed-request",
      "unsupported-media-type",
      "not-found",
      "version-mismatch",
      "validation-failed",
      "precondition-required",
    ),
  },
});
