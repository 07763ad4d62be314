/**
 * Every sealed secret in D1, for re-sealing after a key rotation: account API tokens and the
 * current and previous callback secrets of accounts and of their receivers, and the signing
 * secrets of event subscriptions. Replacing is compare-and-set on the old sealed text,
 * so a value changed meanwhile (a new token, a rotation) is never overwritten by a stale one.
 */
import { and, eq, isNotNull, like, not, or } from "drizzle-orm";
import type { Db } from "./client";
import { accounts, callbackReceivers, eventSubscriptions, grantSettings } from "./schema";

/** Which column holds a sealed value. */
export type SealedColumn =
  | "api-token"
  | "event-subscription-secret"
  | "callback-secret"
  | "previous-callback-secret"
  | "receiver-secret"
  | "previous-receiver-secret";

/** One sealed value and where it lives. */
export interface SealedValue {
  accountId: string;
  /** The receiver's ticket system, for receiver secrets; else null. */
  ticketSystem: string | null;
  /** The event subscription's id, for its secret. */
  subscriptionId?: string;
  column: SealedColumn;
  sealed: string;
}

const isUnder = (sealed: string, version: string) => sealed.startsWith(`${version}:`);

/**
 * Up to `limit` sealed values not sealed under key `version` (API tokens first), in a stable
 * order so repeated calls make progress.
 */
export async function listSealedNotUnder(
  db: Db,
  version: string,
  limit: number,
): Promise<SealedValue[]> {
  const prefix = `${version}:%`;
  const tokens = await db
    .select({ accountId: accounts.id, sealed: accounts.apiTokenCiphertext })
    .from(accounts)
    .where(not(like(accounts.apiTokenCiphertext, prefix)))
    .orderBy(accounts.id)
    .limit(limit);
  const out: SealedValue[] = tokens.map((t) => ({ ...t, ticketSystem: null, column: "api-token" }));
  if (out.length >= limit) {
    return out;
  }
  const settings = await db
    .select({
      accountId: grantSettings.accountId,
      current: grantSettings.callbackSecretCiphertext,
      previous: grantSettings.previousCallbackSecretCiphertext,
    })
    .from(grantSettings)
    .where(
      or(
        not(like(grantSettings.callbackSecretCiphertext, prefix)),
        and(
          isNotNull(grantSettings.previousCallbackSecretCiphertext),
          not(like(grantSettings.previousCallbackSecretCiphertext, prefix)),
        ),
      ),
    )
    .orderBy(grantSettings.accountId)
    .limit(limit - out.length);
  for (const row of settings) {
    const base = { accountId: row.accountId, ticketSystem: null };
    if (!isUnder(row.current, version)) {
      out.push({ ...base, column: "callback-secret", sealed: row.current });
    }
    if (row.previous !== null && !isUnder(row.previous, version)) {
      out.push({ ...base, column: "previous-callback-secret", sealed: row.previous });
    }
  }
  if (out.length >= limit) {
    return out.slice(0, limit);
  }
  const receivers = await db
    .select({
      accountId: callbackReceivers.accountId,
      ticketSystem: callbackReceivers.ticketSystem,
      current: callbackReceivers.secretCiphertext,
      previous: callbackReceivers.previousSecretCiphertext,
    })
    .from(callbackReceivers)
    .where(
      or(
        not(like(callbackReceivers.secretCiphertext, prefix)),
        and(
          isNotNull(callbackReceivers.previousSecretCiphertext),
          not(like(callbackReceivers.previousSecretCiphertext, prefix)),
        ),
      ),
    )
    .orderBy(callbackReceivers.accountId, callbackReceivers.ticketSystem)
    .limit(limit - out.length);
  for (const row of receivers) {
    const base = { accountId: row.accountId, ticketSystem: row.ticketSystem };
    if (!isUnder(row.current, version)) {
      out.push({ ...base, column: "receiver-secret", sealed: row.current });
    }
    if (row.previous !== null && !isUnder(row.previous, version)) {
      out.push({ ...base, column: "previous-receiver-secret", sealed: row.previous });
    }
  }
  if (out.length >= limit) {
    return out.slice(0, limit);
  }
  const subscriptions = await db
    .select({
      accountId: eventSubscriptions.accountId,
      subscriptionId: eventSubscriptions.id,
      sealed: eventSubscriptions.secretCiphertext,
    })
    .from(eventSubscriptions)
    .where(not(like(eventSubscriptions.secretCiphertext, prefix)))
    .orderBy(eventSubscriptions.accountId, eventSubscriptions.id)
    .limit(limit - out.length);
  for (const row of subscriptions) {
    out.push({ ...row, ticketSystem: null, column: "event-subscription-secret" });
  }
  return out.slice(0, limit);
}

/**
 * Replaces `value.sealed` with `resealed` if the column still holds `value.sealed`.
 * @returns whether it was replaced.
 */
export async function replaceSealed(
  db: Db,
  value: SealedValue,
  resealed: string,
): Promise<boolean> {
  switch (value.column) {
    case "event-subscription-secret": {
      const rows = await db
        .update(eventSubscriptions)
        .set({ secretCiphertext: resealed })
        .where(
          and(
            eq(eventSubscriptions.accountId, value.accountId),
            eq(eventSubscriptions.id, value.subscriptionId ?? ""),
            eq(eventSubscriptions.secretCiphertext, value.sealed),
          ),
        )
        .returning({ id: eventSubscriptions.id });
      return rows.length > 0;
    }
    case "api-token": {
      const rows = await db
        .update(accounts)
        .set({ apiTokenCiphertext: resealed })
        .where(and(eq(accounts.id, value.accountId), eq(accounts.apiTokenCiphertext, value.sealed)))
        .returning({ id: accounts.id });
      return rows.length > 0;
    }
    case "callback-secret": {
      const rows = await db
        .update(grantSettings)
        .set({ callbackSecretCiphertext: resealed })
        .where(
          and(
            eq(grantSettings.accountId, value.accountId),
            eq(grantSettings.callbackSecretCiphertext, value.sealed),
          ),
        )
        .returning({ id: grantSettings.accountId });
      return rows.length > 0;
    }
    case "previous-callback-secret": {
      const rows = await db
        .update(grantSettings)
        .set({ previousCallbackSecretCiphertext: resealed })
        .where(
          and(
            eq(grantSettings.accountId, value.accountId),
            eq(grantSettings.previousCallbackSecretCiphertext, value.sealed),
          ),
        )
        .returning({ id: grantSettings.accountId });
      return rows.length > 0;
    }
    case "receiver-secret":
    case "previous-receiver-secret": {
      const column =
        value.column === "receiver-secret"
          ? callbackReceivers.secretCiphertext
          : callbackReceivers.previousSecretCiphertext;
      const rows = await db
        .update(callbackReceivers)
        .set(
          value.column === "receiver-secret"
            ? { secretCiphertext: resealed }
            : { previousSecretCiphertext: resealed },
        )
        .where(
          and(
            eq(callbackReceivers.accountId, value.accountId),
            eq(callbackReceivers.ticketSystem, value.ticketSystem ?? ""),
            eq(column, value.sealed),
          ),
        )
        .returning({ id: callbackReceivers.accountId });
      return rows.length > 0;
    }
  }
}
