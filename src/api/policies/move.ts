/**
 * `POST /v1/accounts/{account_id}/policies/{id}/move`: puts a policy right before or after
 * another, or at the top or bottom. Uses the gap between the new neighbours when there is one,
 * else renumbers the fewest neighbours; the writes come in an order in which no two policies
 * ever hold the same precedence. Each write is one stored change (and one Cloudflare write at
 * the next reconcile); the response counts them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../../db/client";
import { type StoredObject, updateObject } from "../../db/desired-objects.repo";
import { planMove } from "../../domain/policies/precedence";
import { guardAssertions } from "../assertions/guard";
import { actorOf, createRouter } from "../context";
import { ObjectParams, problemResponses, security } from "../contract";
import { requireAccount } from "../desired/account-guard";
import { ProblemError } from "../problem";
import { PositionSchema, toPosition } from "./index";
import { loadPrecedenceState, precedenceProblem, renumberingWrites } from "./precedence";

const MoveResult = z
  .object({
    writes: z
      .number()
      .int()
      .openapi({ description: "Stored changes made (0 when already there)." }),
    changes: z
      .array(z.object({ id: z.string(), from: z.number().int(), to: z.number().int() }))
      .openapi({ description: "The precedence writes, in the order they were made." }),
    order: z
      .array(z.object({ id: z.string(), name: z.string(), precedence: z.number().int() }))
      .openapi({ description: "Every stored policy afterwards, in evaluation order." }),
  })
  .openapi("PolicyMoveResult");

const moveRoute = createRoute({
  method: "post",
  path: "/v1/accounts/{account_id}/policies/{id}/move",
  operationId: "moveNetworkPolicy",
  tags: ["Network policies"],
  security,
  summary: "Move a policy before or after another one, or to the top or bottom",
  request: {
    params: ObjectParams,
    body: { required: true, content: { "application/json": { schema: PositionSchema } } },
  },
  responses: {
    200: {
      description: "Moved; the changes are reconciled by the next run",
      content: { "application/json": { schema: MoveResult } },
    },
    ...problemResponses(
      "malformed-request",
      "not-found",
      "precedence-taken",
      "version-mismatch",
      "validation-failed",
      "assertion-failed",
    ),
  },
});

export const policyMoveRouter = createRouter().openapi(moveRoute, async (c) => {
  const { account_id, id } = c.req.valid("param");
  const position = toPosition(c.req.valid("json"));
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const state = await loadPrecedenceState(db, account_id);
  if (!state.policies.has(id)) {
    throw new ProblemError("not-found", `No NetworkPolicy ${id} in account ${account_id}.`);
  }
  const planned = planMove(state.slots, id, position);
  if (!planned.ok) {
    precedenceProblem(planned.error, "before" in position ? "#/before" : "#/after");
  }
  const writes = renumberingWrites(state, planned.value.changes);
  const final = new Map(writes.map((w) => [w.current.id, w]));
  await guardAssertions(
    db,
    account_id,
    [...final.values()].map((w) => ({ op: "put", object: { ...w.current, spec: w.spec } })),
  );
  const current = new Map<string, StoredObject<"network_policy">>(state.policies);
  const actor = actorOf(c);
  for (const write of writes) {
    const before = current.get(write.current.id);
    const written =
      before === undefined
        ? undefined
        : await updateObject(
            db,
            account_id,
            before,
            { spec: write.spec, naturalKey: write.naturalKey },
            actor,
            Date.now(),
          );
    if (written === undefined) {
      throw new ProblemError(
        "version-mismatch",
        `Policy ${write.current.id} changed during the move; re-read and retry.`,
      );
    }
    current.set(written.id, written);
  }
  const order = [...current.values()]
    .map((p) => ({ id: p.id, name: p.spec.name, precedence: p.spec.precedence }))
    .sort((a, b) => a.precedence - b.precedence);
  return c.json({ writes: writes.length, changes: planned.value.changes, order }, 200);
});
