/**
 * An active grant's Gateway allow policy: exactly its subject, destinations, ports and
 * protocols, placed above (at a lower precedence than) the block policies that cover its
 * destinations. Each grant gets its own policy, so ending one grant never removes access another
 * still justifies.
 */

import { parseKnownCidr } from "../cidr/known";
import { prefixesOverlap } from "../cidr/lookup";
import type { NetworkPolicySpec } from "../model";
import type { GrantPolicySource } from "./grant";

/** Where a grant policy goes when no policy at all is known: Gateway's first default slot. */
export const FIRST_GRANT_CEILING = 1000;

/** Longest policy name Gateway shows in full; longer names are cut. */
const MAX_NAME_LENGTH = 200;

/** A policy that occupies a precedence (desired, or observed in Cloudflare). */
export interface PrecedenceHolder {
  precedence: number;
  /** Set for desired policies: block policies over these destinations bound grant placement. */
  block?: { destinations: string[]; enabled: boolean };
}

/** The precedence chosen for one grant's policy, or null when no free value is above its block. */
export interface GrantPlacement {
  grantId: string;
  precedence: number | null;
  /** The exclusive upper bound the policy had to stay below. */
  ceiling: number;
}

function covers(blockDestinations: string[], grantDestinations: string[]): boolean {
  if (blockDestinations.length === 0) {
    return true;
  }
  return grantDestinations.some((g) =>
    blockDestinations.some((b) => prefixesOverlap(parseKnownCidr(b), parseKnownCidr(g))),
  );
}

/**
 * Chooses precedences for the active grants' policies.
 *
 * Scheme: the ceiling of a grant is the lowest precedence of an enabled block policy whose
 * destinations share an address with the grant's (a block with no destinations covers all);
 * without one, the lowest precedence of any policy (so the grant is evaluated first), or
 * FIRST_GRANT_CEILING when there is none. Grants are placed oldest activation first (then by
 * id); a grant keeps the precedence its policy already has when that is still below its ceiling
 * and free, otherwise it takes the highest free value below the ceiling. `holders` are every
 * precedence not owned by these grants (desired policies, unmanaged rules, policies of ended
 * grants still awaiting deletion), so a write never collides with a rule that still exists.
 * Placement is stable: a converged account keeps its values, so it plans no action.
 */
export function placeGrantPolicies(
  grants: readonly GrantPolicySource[],
  holders: readonly PrecedenceHolder[],
): GrantPlacement[] {
  const taken = new Set(holders.map((h) => h.precedence));
  const lowestAny = holders.reduce(
    (low, h) => Math.min(low, h.precedence),
    Number.POSITIVE_INFINITY,
  );
  const ordered = [...grants].sort(
    (a, b) => a.activatedAtMs - b.activatedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return ordered.map((grant) => {
    const lowestBlock = holders
      .filter((h) => h.block?.enabled === true && covers(h.block.destinations, grant.destinations))
      .reduce((low, h) => Math.min(low, h.precedence), Number.POSITIVE_INFINITY);
    const ceiling = Number.isFinite(lowestBlock)
      ? lowestBlock
      : Number.isFinite(lowestAny)
        ? lowestAny
        : FIRST_GRANT_CEILING;
    const kept = grant.policyPrecedence;
    let precedence: number | null =
      kept !== null && kept >= 1 && kept < ceiling && !taken.has(kept) ? kept : null;
    for (let candidate = ceiling - 1; precedence === null && candidate >= 1; candidate--) {
      if (!taken.has(candidate)) {
        precedence = candidate;
      }
    }
    if (precedence !== null) {
      taken.add(precedence);
    }
    return { grantId: grant.id, precedence, ceiling };
  });
}

/** The name of a grant's policy: `Grant <system> <ticket id>: <subject>`, at most 200 characters. */
export function grantPolicyName(grant: GrantPolicySource): string {
  return `Grant ${grant.ticket.system} ${grant.ticket.id}: ${grant.subjectEmail}`.slice(
    0,
    MAX_NAME_LENGTH,
  );
}

/** The allow policy of an active grant at `precedence`. */
export function grantPolicySpec(grant: GrantPolicySource, precedence: number): NetworkPolicySpec {
  return {
    name: grantPolicyName(grant),
    action: "allow",
    precedence,
    enabled: true,
    destinations: grant.destinations,
    ports: grant.ports,
    protocols: grant.protocols,
    emails: [grant.subjectEmail],
    emailRegex: null,
  };
}
