/**
 * The dead-letter queue's side: reconcile messages the queue delivered `max_retries` times
 * without success are stored in D1 for operators to see, and re-driven on request (sent to the
 * reconcile queue again, or, without a queue, the account made due at once).
 */
import { scheduleAccount } from "../db/accounts.repo";
import { type DeadLetterRecord, saveDeadLetters, takeDeadLetter } from "../db/dead-letters.repo";
import type { ReconcileMessage } from "./continue";
import type { ReconcileDeps } from "./deps";

/** The dead-letter queue's name, as wrangler.toml declares it. */
export const DEAD_LETTER_QUEUE = "tunnelplane-reconcile-dlq";

/** Stores every message of a dead-letter batch and acknowledges them (all in one D1 batch). */
export async function storeDeadLetters(
  deps: ReconcileDeps,
  batch: MessageBatch<ReconcileMessage>,
): Promise<void> {
  const nowMs = deps.nowMs();
  await saveDeadLetters(
    deps.db,
    batch.messages.map((m) => ({
      id: m.id,
      accountId: m.body.account_id,
      attempts: m.attempts,
      sentAtMs: m.timestamp.getTime(),
      deadLetteredAtMs: nowMs,
    })),
  );
  batch.ackAll();
}

/**
 * Re-drives the dead letter `id`: its account is sent to the reconcile queue again (or made due
 * now when no queue is bound) and the letter is removed.
 * @returns the letter re-driven, or undefined when there is none with that id.
 */
export async function redriveDeadLetter(
  deps: ReconcileDeps,
  id: string,
): Promise<DeadLetterRecord | undefined> {
  const letter = await takeDeadLetter(deps.db, id);
  if (letter === undefined) {
    return undefined;
  }
  if (deps.queue === undefined) {
    await scheduleAccount(deps.db, letter.accountId, deps.nowMs());
  } else {
    await deps.queue.send({ account_id: letter.accountId });
  }
  return letter;
}
