/** Per-account grant settings: the sealed callback signing secret (read only to sign). */
import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { grantSettings } from "./schema";

/** The sealed callback secret of the account, or undefined when none is set. */
export async function getSealedCallbackSecret(
  db: Db,
  accountId: string,
): Promise<string | undefined> {
  const rows = await db
    .select({ sealed: grantSettings.callbackSecretCiphertext })
    .from(grantSettings)
    .where(eq(grantSettings.accountId, accountId));
  return rows[0]?.sealed;
}

/** When the secret was last set (epoch ms), or null when it never was. */
export async function getCallbackSecretSetAtMs(db: Db, accountId: string): Promise<number | null> {
  const rows = await db
    .select({ at: grantSettings.updatedAtMs })
    .from(grantSettings)
    .where(eq(grantSettings.accountId, accountId));
  return rows[0]?.at ?? null;
}

/** Sets (or replaces) the sealed callback secret. */
export async function putSealedCallbackSecret(
  db: Db,
  accountId: string,
  sealed: string,
  nowMs: number,
): Promise<void> {
  await db
    .insert(grantSettings)
    .values({ accountId, callbackSecretCiphertext: sealed, updatedAtMs: nowMs })
    .onConflictDoUpdate({
      target: grantSettings.accountId,
      set: { callbackSecretCiphertext: sealed, updatedAtMs: nowMs },
    });
}
