/**
 * Grant callbacks: every state change is POSTed to the grant's `callback_url`, signed with
 * HMAC-SHA256 over `<timestamp>.<body>` under the account's callback secret:
 *   X-Tunnelplane-Timestamp: <unix seconds>
 *   X-Tunnelplane-Signature: sha256=<hex>
 * A 2xx answer delivers; anything else is retried with backoff (see domain/grants/delivery).
 * Deliveries of one grant may arrive out of order after retries; the payload's `grant.version`
 * orders them.
 */
import {
  type DeliveryRecord,
  listDueDeliveries,
  recordDeliveryAttempt,
} from "../db/grant-deliveries.repo";
import { getSealedCallbackSecret } from "../db/grant-settings.repo";
import type { GrantRecord } from "../db/grants.repo";
import { nextDeliveryAttemptAtMs } from "../domain/grants/delivery";
import { openSecret } from "../lib/crypto";
import { hmacSha256Hex } from "../lib/hmac";
import type { ReconcileDeps } from "./deps";

/** How long one attempt may take before it counts as failed, ms. */
const ATTEMPT_TIMEOUT_MS = 5_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The body POSTed for a grant that just entered its current state. */
export function grantCallbackPayload(grant: GrantRecord, occurredAtMs: number): string {
  return JSON.stringify({
    event: `grant.${grant.state}`,
    occurred_at: iso(occurredAtMs),
    account_id: grant.accountId,
    grant: {
      id: grant.id,
      version: grant.version,
      state: grant.state,
      ticket: grant.ticket,
      subject_email: grant.subjectEmail,
      destinations: grant.destinations,
      ports: grant.ports.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}-${p.to}`)),
      protocols: grant.protocols,
      reason: grant.reason,
      starts_at: iso(grant.startsAtMs),
      ends_at: iso(grant.endsAtMs),
      extends_grant_id: grant.extendsGrantId,
      decision: grant.decision,
    },
  });
}

/** The signature header value for `body` sent at `timestampS` (unix seconds). */
export async function signCallback(secret: string, timestampS: number, body: string) {
  return `sha256=${await hmacSha256Hex(secret, `${timestampS}.${body}`)}`;
}

async function attempt(deps: ReconcileDeps, delivery: DeliveryRecord, secret: string | null) {
  const atMs = deps.nowMs();
  if (secret === null) {
    return { atMs, statusCode: null, error: "no callback secret is set for the account" };
  }
  const timestampS = Math.floor(atMs / 1000);
  try {
    const response = await deps.callbackFetch(
      new Request(delivery.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Tunnelplane-Event": delivery.event,
          "X-Tunnelplane-Delivery": delivery.id,
          "X-Tunnelplane-Timestamp": `${timestampS}`,
          "X-Tunnelplane-Signature": await signCallback(secret, timestampS, delivery.payloadJson),
        },
        body: delivery.payloadJson,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      }),
    );
    await response.body?.cancel();
    return {
      atMs,
      statusCode: response.status,
      error: response.ok ? null : `the receiver answered ${response.status}`,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { atMs, statusCode: null, error: `no response: ${message}` };
  }
}

/**
 * Sends every delivery of the account that is due now, one attempt each, and records the
 * outcome (delivered, retry at the backoff time, or failed after the last attempt).
 * @returns the number of deliveries attempted.
 */
export async function deliverDueCallbacks(deps: ReconcileDeps, accountId: string): Promise<number> {
  const due = await listDueDeliveries(deps.db, accountId, deps.nowMs());
  if (due.length === 0) {
    return 0;
  }
  const sealed = await getSealedCallbackSecret(deps.db, accountId);
  const secret = sealed === undefined ? null : await openSecret(sealed, deps.tokenKey);
  for (const delivery of due) {
    const result = await attempt(deps, delivery, secret);
    const nextAttemptAtMs =
      result.error === null
        ? null
        : nextDeliveryAttemptAtMs(delivery.attempts.length + 1, result.atMs);
    await recordDeliveryAttempt(deps.db, accountId, delivery, result, {
      status: result.error === null ? "delivered" : nextAttemptAtMs === null ? "failed" : "pending",
      nextAttemptAtMs,
    });
  }
  return due.length;
}
