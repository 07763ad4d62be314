/**
 * Grant callbacks: every state change is POSTed to the grant's `callback_url`, signed (see
 * signed-post.ts) under the secret of the grant's receiver (its ticket system), else the
 * account's secret. Sent only by the account's alarm, never inside an API request. A failed
 * attempt is retried with backoff (see domain/grants/delivery). Deliveries of one grant may
 * arrive out of order after retries; the payload's `grant.version` orders them.
 */

import { getSealedReceiverSecrets } from "../db/callback-receivers.repo";
import {
  type DeliveryRecord,
  listDueDeliveries,
  recordDeliveryAttempt,
} from "../db/grant-deliveries.repo";
import { getGrantSettings, getSealedCallbackSecrets } from "../db/grant-settings.repo";
import type { GrantRecord } from "../db/grants.repo";
import { nextDeliveryAttemptAtMs } from "../domain/grants/delivery";
import { type KeyRing, openSecret } from "../lib/key-ring";
import type { ReconcileDeps } from "./deps";
import { type AttemptResult, postSigned } from "./signed-post";

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

async function attempt(
  deps: ReconcileDeps,
  delivery: DeliveryRecord,
  secrets: string[] | null,
  allowedPorts: readonly number[],
): Promise<AttemptResult> {
  if (secrets === null) {
    return {
      atMs: deps.nowMs(),
      statusCode: null,
      error: "no callback secret is set for the account",
      final: false,
    };
  }
  return postSigned(deps, delivery, secrets, allowedPorts);
}

/** The ticket system of the grant a delivery reports on, from its stored payload. */
function ticketSystemOf(delivery: DeliveryRecord): string {
  return (JSON.parse(delivery.payloadJson) as { grant: { ticket: { system: string } } }).grant
    .ticket.system;
}

/**
 * The secrets that sign for a ticket system now: its receiver's when it has one, else the
 * account's; null when neither is set.
 */
async function openSecrets(
  deps: ReconcileDeps,
  accountId: string,
  ticketSystem: string,
  ring: KeyRing,
): Promise<string[] | null> {
  const nowMs = deps.nowMs();
  const receiver = await getSealedReceiverSecrets(deps.db, accountId, ticketSystem, nowMs);
  const sealed = receiver ?? (await getSealedCallbackSecrets(deps.db, accountId, nowMs));
  if (sealed === undefined) {
    return null;
  }
  const context = {
    accountId,
    purpose: "callback-secret",
    ...(receiver === undefined ? {} : { scope: ticketSystem }),
  } as const;
  const current = await openSecret(ring, sealed.current, context);
  return sealed.previous === null
    ? [current]
    : [current, await openSecret(ring, sealed.previous, context)];
}

/**
 * Sends every delivery of the account that is due now, one attempt each, and records the
 * outcome (delivered, retry at the backoff time, or failed after the last attempt or when the
 * URL is refused).
 * @returns the number of deliveries attempted.
 */
export async function deliverDueCallbacks(deps: ReconcileDeps, accountId: string): Promise<number> {
  const due = await listDueDeliveries(deps.db, accountId, deps.nowMs());
  if (due.length === 0) {
    return 0;
  }
  const [ring, settings] = await Promise.all([
    deps.keyRing(),
    getGrantSettings(deps.db, accountId),
  ]);
  const secretsBySystem = new Map<string, string[] | null>();
  for (const delivery of due) {
    const system = ticketSystemOf(delivery);
    let secrets = secretsBySystem.get(system);
    if (secrets === undefined) {
      secrets = await openSecrets(deps, accountId, system, ring);
      secretsBySystem.set(system, secrets);
    }
    const { final, ...result } = await attempt(
      deps,
      delivery,
      secrets,
      settings?.callbackAllowedPorts ?? [],
    );
    const nextAttemptAtMs =
      result.error === null || final
        ? null
        : nextDeliveryAttemptAtMs(delivery.attempts.length + 1, result.atMs);
    await recordDeliveryAttempt(deps.db, accountId, delivery, result, {
      status: result.error === null ? "delivered" : nextAttemptAtMs === null ? "failed" : "pending",
      nextAttemptAtMs,
    });
  }
  return due.length;
}
