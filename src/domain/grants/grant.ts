/**
 * The grant model: a time-bound permission, requested by a ticketing system, for one person to
 * reach some private addresses. Pure types shared by the lifecycle, approval rules, the path
 * check, the planner (an active grant becomes a Gateway allow policy) and the store.
 */
import type { NetworkProtocol, PortRange } from "../ports";

/** Every state of a grant. `rejected`, `cancelled`, `revoked` and `expired` are final. */
export const GRANT_STATES = [
  "requested",
  "approved",
  "active",
  "expired",
  "rejected",
  "cancelled",
  "revoked",
] as const;

/** One state of a grant. */
export type GrantState = (typeof GRANT_STATES)[number];

/** The ticket a grant was requested for. */
export interface TicketRef {
  /** The requester system, e.g. `servicenow`, `jira-sm` (lower case). */
  system: string;
  /** The ticket's id in that system, e.g. `CHG0031337`. */
  id: string;
  /** A link to the ticket, or null. */
  url: string | null;
}

/** What a grant asks for: who may reach what, for how long, and why. */
export interface GrantRequest {
  ticket: TicketRef;
  /** The person who gets access: an email, lower case. */
  subjectEmail: string;
  /** Canonical CIDRs (a single address is a /32 or /128), at least one. */
  destinations: string[];
  /** Destination ports; empty means any port. */
  ports: PortRange[];
  /** Protocols; empty means every protocol the proxy carries. */
  protocols: NetworkProtocol[];
  /** Free text from the ticket. */
  reason: string;
  /** When access starts, epoch ms (inclusive). */
  startsAtMs: number;
  /** When access ends, epoch ms (exclusive); after `startsAtMs`. */
  endsAtMs: number;
}

/** An active grant as the planner needs it to derive its allow policy. */
export interface GrantPolicySource {
  /** Grant id (uuid); the policy's ownership marker is `tunnelplane:<id>`. */
  id: string;
  /** Grant version: the derived policy's version. */
  version: number;
  ticket: TicketRef;
  subjectEmail: string;
  destinations: string[];
  ports: PortRange[];
  protocols: NetworkProtocol[];
  /** When the grant became active, epoch ms: older grants keep their precedence first. */
  activatedAtMs: number;
  /** The precedence the grant's policy was last written with, or null before the first write. */
  policyPrecedence: number | null;
  /** The grant version last confirmed in Cloudflare, or null. */
  policySyncedVersion: number | null;
}
