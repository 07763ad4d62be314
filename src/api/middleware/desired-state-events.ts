/**
 * Raises `desired_state.changed` after every successful write of desired state (the operations
 * marked `changesDesiredState` in authz/operations.ts): object writes and deletes, and a
 * `PUT desired-state` that changed something. Raised after the write landed, never for a refusal.
 */
import type { MiddlewareHandler } from "hono";
import { createDb } from "../../db/client";
import { type EventDeliveryMessage, emitEvents } from "../../reconciler/events/emit";
import { OPERATIONS } from "../authz/operations";
import type { AppEnv } from "../context";
import { kindOf, objectIdOf } from "./audit";

type Summary = { create: number; update: number; delete: number };

async function responseJson(res: Response): Promise<Record<string, unknown> | null> {
  if (!(res.headers.get("content-type") ?? "").includes("json")) {
    return null;
  }
  return (await res.clone().json()) as Record<string, unknown>;
}

export const desiredStateEvents: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const operation = c.get("operation");
  if (
    operation === undefined ||
    operation.accountId === null ||
    c.res.status >= 300 ||
    OPERATIONS[operation.operationId]?.changesDesiredState !== true
  ) {
    return;
  }
  const body = await responseJson(c.res);
  const summary = body?.summary as Summary | undefined;
  if (summary !== undefined && summary.create + summary.update + summary.delete === 0) {
    return;
  }
  const nowMs = Date.now();
  await emitEvents(
    {
      db: createDb(c.env.DB),
      eventQueue: c.env.RECONCILE_QUEUE as Queue<EventDeliveryMessage> | undefined,
    },
    operation.accountId,
    [
      {
        id: `${c.get("requestId")}.desired_state.changed`,
        type: "desired_state.changed",
        accountId: operation.accountId,
        atMs: nowMs,
        data: {
          operation: operation.operationId,
          kind: kindOf(operation.path),
          object_id: objectIdOf(operation.params, body),
          actor: c.get("actor"),
          ...(summary === undefined ? {} : { version: body?.version, summary }),
        },
      },
    ],
    nowMs,
  );
};
