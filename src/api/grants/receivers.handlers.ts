/** Callback receiver handlers: a receiver's secret is sealed for its ticket system, never read. */

import {
  deleteCallbackReceiver,
  listCallbackReceivers,
  putCallbackReceiver,
} from "../../db/callback-receivers.repo";
import { createDb } from "../../db/client";
import { loadKeyRing, sealSecret } from "../../lib/key-ring";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { ProblemError } from "../problem";
import { toCallbackReceiverResource } from "./grant-settings.schemas";
import type * as endpoints from "./receivers.endpoints";

export const listReceivers: AppHandler<typeof endpoints.listReceivers> = async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const nowMs = Date.now();
  const items = await listCallbackReceivers(db, account_id);
  return c.json({ items: items.map((r) => toCallbackReceiverResource(r, nowMs)) }, 200);
};

export const putReceiver: AppHandler<typeof endpoints.putReceiver> = async (c) => {
  const { account_id, ticket_system } = c.req.valid("param");
  const body = c.req.valid("json");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const nowMs = Date.now();
  const overlapMs = body.previous_secret_valid_for_s * 1000;
  const sealed = await sealSecret(await loadKeyRing(c.env), body.callback_secret, {
    accountId: account_id,
    purpose: "callback-secret",
    scope: ticket_system,
  });
  const previousUntilMs = overlapMs === 0 ? null : nowMs + overlapMs;
  await putCallbackReceiver(db, account_id, ticket_system, { sealed, previousUntilMs }, nowMs);
  const stored = (await listCallbackReceivers(db, account_id)).find(
    (r) => r.ticketSystem === ticket_system,
  );
  if (stored === undefined) {
    throw new Error(`receiver ${ticket_system} vanished after it was written`);
  }
  return c.json(toCallbackReceiverResource(stored, nowMs), 200);
};

export const deleteReceiver: AppHandler<typeof endpoints.deleteReceiver> = async (c) => {
  const { account_id, ticket_system } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  if (!(await deleteCallbackReceiver(db, account_id, ticket_system))) {
    throw new ProblemError("not-found", `No callback receiver ${ticket_system} in ${account_id}.`);
  }
  return c.body(null, 204);
};
