/**
 * Per-account grant settings: the sealed callback signing secret (read only to sign), the one it
 * replaced while its overlap window lasts, and the ports callback URLs may use besides 443.
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { grantSettings } from "./schema";

/** What the API may show of the settings: never a secret. */
export interface GrantSettingsView {
  /** When the settings last changed, epoch ms. */
  updatedAtMs: number;
  /** Until when the replaced secret still signs, epoch ms, or null. */
  previousSecretUntilMs: number | null;
  /** Ports other than 443 that callback URLs may use. */
  callbackAllowedPorts: number[];
}

/** The sealed secrets that sign a callback sent at some instant. */
export interface SealedCallbackSecrets {
  current: string;
  /** The replaced secret, only while its overlap window lasts. */
  previous: string | null;
}

/** The account's settings without secrets, or undefined when none were ever set. */
export async function getGrantSettings(
  db: Db,
  accountId: string,
): Promise<GrantSettingsView | undefined> {
  const rows = await db
    .select({
      updatedAtMs: grantSettings.updatedAtMs,
      previousSecretUntilMs: grantSettings.previousCallbackSecretUntilMs,
      ports: grantSettings.callbackAllowedPortsJson,
    })
    .from(grantSettings)
    .where(eq(grantSettings.accountId, accountId));
  const row = rows[0];
  return row === undefined
    ? undefined
    : {
        updatedAtMs: row.updatedAtMs,
        previousSecretUntilMs: row.previousSecretUntilMs,
        callbackAllowedPorts: JSON.parse(row.ports) as number[],
      };
}

/**
 * The secrets of a stored row that sign at `nowMs`: the current one, and the previous one while
 * its overlap window (ending at `untilMs`, exclusive) lasts.
 */
export function signingSecrets(
  row: { current: string; previous: string | null; untilMs: number | null },
  nowMs: number,
): SealedCallbackSecrets {
  const overlapping = row.previous !== null && row.untilMs !== null && nowMs < row.untilMs;
  return { current: row.current, previous: overlapping ? row.previous : null };
}

/** The sealed secrets that sign at `nowMs` (the previous one until its window ends), or undefined. */
export async function getSealedCallbackSecrets(
  db: Db,
  accountId: string,
  nowMs: number,
): Promise<SealedCallbackSecrets | undefined> {
  const rows = await db
    .select({
      current: grantSettings.callbackSecretCiphertext,
      previous: grantSettings.previousCallbackSecretCiphertext,
      untilMs: grantSettings.previousCallbackSecretUntilMs,
    })
    .from(grantSettings)
    .where(eq(grantSettings.accountId, accountId));
  return rows[0] && signingSecrets(rows[0], nowMs);
}

/** A change to the settings; an absent field keeps its stored value. */
export interface GrantSettingsChange {
  /** A new secret, sealed; the stored one becomes the previous secret until `previousUntilMs`. */
  sealedSecret?: { sealed: string; previousUntilMs: number | null };
  callbackAllowedPorts?: number[];
}

/**
 * Writes the settings in one statement. A new secret moves the stored one into the previous
 * slot inside SQLite (the right-hand side reads the row as it was), so two concurrent rotations
 * never lose a secret that is still signing.
 * @returns false when the account has no settings yet and no secret is given (nothing written).
 */
export async function putGrantSettings(
  db: Db,
  accountId: string,
  change: GrantSettingsChange,
  nowMs: number,
): Promise<boolean> {
  const ports =
    change.callbackAllowedPorts === undefined
      ? undefined
      : JSON.stringify(change.callbackAllowedPorts);
  const secret = change.sealedSecret;
  if (secret === undefined) {
    const rows = await db
      .update(grantSettings)
      .set({
        updatedAtMs: nowMs,
        ...(ports === undefined ? {} : { callbackAllowedPortsJson: ports }),
      })
      .where(eq(grantSettings.accountId, accountId))
      .returning({ accountId: grantSettings.accountId });
    return rows.length > 0;
  }
  await db
    .insert(grantSettings)
    .values({
      accountId,
      callbackSecretCiphertext: secret.sealed,
      callbackAllowedPortsJson: ports ?? "[]",
      updatedAtMs: nowMs,
    })
    .onConflictDoUpdate({
      target: grantSettings.accountId,
      set: {
        previousCallbackSecretCiphertext:
          secret.previousUntilMs === null ? null : sql`${grantSettings.callbackSecretCiphertext}`,
        previousCallbackSecretUntilMs: secret.previousUntilMs,
        callbackSecretCiphertext: secret.sealed,
        updatedAtMs: nowMs,
        ...(ports === undefined ? {} : { callbackAllowedPortsJson: ports }),
      },
    });
  return true;
}
