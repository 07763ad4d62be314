/** Contracts of the reconcile queue's dead letters: list them, re-drive one. */
import { createRoute, z } from "@hono/zod-openapi";
import { PageQuery, pageOf, problemResponses, security } from "../contract";
import { DeadLetter } from "./dead-letters.schemas";

const tags = ["Reconciliation"];
const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const list = createRoute({
  method: "get",
  path: "/v1/reconcile/dead-letters",
  operationId: "listDeadLetters",
  tags,
  security,
  summary: "List reconcile messages that failed every retry, newest first",
  description:
    "A queued reconcile that throws is retried with backoff; after the queue's max_retries it lands in the dead-letter queue, which tunnelplane stores here until it is re-driven.",
  request: { query: PageQuery },
  responses: {
    200: json(pageOf(DeadLetter, "DeadLetterPage"), "A page of dead letters"),
    ...problemResponses("validation-failed"),
  },
});

export const redrive = createRoute({
  method: "post",
  path: "/v1/reconcile/dead-letters/{id}/redrive",
  operationId: "redriveDeadLetter",
  tags,
  security,
  summary: "Send a dead-lettered reconcile to the queue again and remove it from the list",
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(128)
        .openapi({ param: { name: "id", in: "path" }, description: "The queue message id." }),
    }),
  },
  responses: {
    202: json(DeadLetter, "Re-driven: the account's reconcile is queued again"),
    ...problemResponses("not-found", "validation-failed"),
  },
});
