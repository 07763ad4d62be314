/**
 * Key rotation without downtime: after a new key is listed first in TOKEN_ENCRYPTION_KEYS, every
 * cron tick re-seals a bounded number of values still sealed under an older key (or before key
 * versions). Until a value is re-sealed it keeps opening under its own listed key, so nothing
 * waits for the re-seal; an old key can leave the ring once nothing is sealed under it.
 */
import type { Db } from "../db/client";
import { listSealedNotUnder, replaceSealed, type SealedValue } from "../db/sealed-secrets.repo";
import { type KeyRing, openSecret, type SealContext, sealSecret } from "../lib/key-ring";
import { subscriptionSealContext } from "./events/deliver";

/** Most sealed values one tick re-seals (each is two AES-GCM operations and one D1 write). */
export const MAX_SECRETS_RESEALED_PER_TICK = 100;

/** What one pass did. */
export interface ResealOutcome {
  /** Values now sealed under the newest key. */
  resealed: number;
  /** Values no listed key opens (their key left the ring too early); left as they are. */
  unopenable: number;
}

function contextOf(value: SealedValue): SealContext {
  if (value.column === "event-subscription-secret") {
    return subscriptionSealContext(value.accountId, value.subscriptionId ?? "");
  }
  return {
    accountId: value.accountId,
    purpose: value.column === "api-token" ? "api-token" : "callback-secret",
    ...(value.ticketSystem === null ? {} : { scope: value.ticketSystem }),
  };
}

/**
 * Re-seals up to `limit` values not sealed under the ring's newest key. A value changed
 * meanwhile is left to the next pass (compare-and-set). Logs the account and column of a value
 * no key opens, never the value.
 */
export async function resealStaleSecrets(
  deps: { db: Db; keyRing: () => Promise<KeyRing> },
  limit = MAX_SECRETS_RESEALED_PER_TICK,
): Promise<ResealOutcome> {
  const ring = await deps.keyRing();
  const stale = await listSealedNotUnder(deps.db, ring.newest, limit);
  const outcome: ResealOutcome = { resealed: 0, unopenable: 0 };
  for (const value of stale) {
    const context = contextOf(value);
    let plaintext: string;
    try {
      plaintext = await openSecret(ring, value.sealed, context);
    } catch (error) {
      outcome.unopenable++;
      console.warn(
        JSON.stringify({
          event: "reseal-skipped",
          account_id: value.accountId,
          column: value.column,
          reason: error instanceof Error ? error.message : "unknown",
        }),
      );
      continue;
    }
    if (await replaceSealed(deps.db, value, await sealSecret(ring, plaintext, context))) {
      outcome.resealed++;
    }
  }
  return outcome;
}
