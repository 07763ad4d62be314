/**
 * Callback receivers: one signing secret per ticket system of an account, sealed, rotated with
 * an overlap like the account's secret. Secrets are read only to sign.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type SealedCallbackSecrets, signingSecrets } from "./grant-settings.repo";
import { callbackReceivers } from "./schema";

/** What the API may show of a receiver: never a secret. */
export interface CallbackReceiverView {
  ticketSystem: string;
  /** When its secret last changed, epoch ms. */
  updatedAtMs: number;
  /** Until when the replaced secret still signs, epoch ms, or null. */
  previousSecretUntilMs: number | null;
}

/** The account's receivers, by ticket system. */
export async function listCallbackReceivers(
  db: Db,
  accountId: string,
): Promise<CallbackReceiverView[]> {
  return db
    .select({
      ticketSystem: callbackReceivers.ticketSystem,
      updatedAtMs: callbackReceivers.updatedAtMs,
      previousSecretUntilMs: callbackReceivers.previousSecretUntilMs,
    })
    .from(callbackReceivers)
    .where(eq(callbackReceivers.accountId, accountId))
    .orderBy(asc(callbackReceivers.ticketSystem));
}

/** The sealed secrets of one receiver that sign at `nowMs`, or undefined when it has none. */
export async function getSealedReceiverSecrets(
  db: Db,
  accountId: string,
  ticketSystem: string,
  nowMs: number,
): Promise<SealedCallbackSecrets | undefined> {
  const rows = await db
    .select({
      current: callbackReceivers.secretCiphertext,
      previous: callbackReceivers.previousSecretCiphertext,
      untilMs: callbackReceivers.previousSecretUntilMs,
    })
    .from(callbackReceivers)
    .where(
      and(
        eq(callbackReceivers.accountId, accountId),
        eq(callbackReceivers.ticketSystem, ticketSystem),
      ),
    );
  return rows[0] && signingSecrets(rows[0], nowMs);
}

/**
 * Sets a receiver's secret; an existing one becomes the previous secret until
 * `previousUntilMs` (null: dropped at once), moved inside SQLite so concurrent rotations never
 * lose a secret that still signs.
 */
export async function putCallbackReceiver(
  db: Db,
  accountId: string,
  ticketSystem: string,
  secret: { sealed: string; previousUntilMs: number | null },
  nowMs: number,
): Promise<void> {
  await db
    .insert(callbackReceivers)
    .values({ accountId, ticketSystem, secretCiphertext: secret.sealed, updatedAtMs: nowMs })
    .onConflictDoUpdate({
      target: [callbackReceivers.accountId, callbackReceivers.ticketSystem],
      set: {
        previousSecretCiphertext:
          secret.previousUntilMs === null ? null : sql`${callbackReceivers.secretCiphertext}`,
        previousSecretUntilMs: secret.previousUntilMs,
        secretCiphertext: secret.sealed,
        updatedAtMs: nowMs,
      },
    });
}

/** Deletes a receiver; its grants are signed with the account's secret again. */
export async function deleteCallbackReceiver(
  db: Db,
  accountId: string,
  ticketSystem: string,
): Promise<boolean> {
  const rows = await db
    .delete(callbackReceivers)
    .where(
      and(
        eq(callbackReceivers.accountId, accountId),
        eq(callbackReceivers.ticketSystem, ticketSystem),
      ),
    )
    .returning({ system: callbackReceivers.ticketSystem });
  return rows.length > 0;
}
