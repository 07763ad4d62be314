/** The event a grant raises when it enters a state: `grant.<state>`, with the grant's facts. */
import type { GrantRecord } from "../../db/grants.repo";
import type { AccountEvent } from "../../domain/events/events";

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The event of `grant` having just entered its current state at `atMs`; its id is the grant id
 * and the version the transition produced, like the grant's own audit event.
 */
export function grantEvent(grant: GrantRecord, eventId: string, atMs: number): AccountEvent {
  return {
    id: eventId,
    type: `grant.${grant.state}`,
    accountId: grant.accountId,
    atMs,
    data: {
      grant_id: grant.id,
      version: grant.version,
      state: grant.state,
      ticket_system: grant.ticket.system,
      ticket_id: grant.ticket.id,
      subject_email: grant.subjectEmail,
      destinations: grant.destinations,
      starts_at: iso(grant.startsAtMs),
      ends_at: iso(grant.endsAtMs),
    },
  };
}
