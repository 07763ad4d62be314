/**
 * What an observation says about the account as a whole rather than about one object: its
 * initial resolved range, which Cloudflare decides (tunnelplane adopts it and reports the change),
 * and each device profile's Local Domain Fallback list, which can keep a hostname route from ever
 * being used.
 */
import { DEFAULT_INITIAL_RESOLVED_IPV4 } from "../cidr/reserved";
import type { DesiredState, ObservedState } from "../model";
import {
  describeLocalFallbackConflict,
  findLocalFallbackConflicts,
} from "../routes/local-fallback";
import type { PlanWarning } from "./actions";
import { readMarker } from "./ownership";
import { liveOf } from "./planner";

/** The key PlanWarnings about the account's initial resolved range carry. */
export const INITIAL_RESOLVED_KEY = "initial_resolved_ip/v4";

/**
 * The desired state planned against Cloudflare's initial resolved range: when the observation
 * read it (accounts with hostname routes, wide observations) and it differs from the stored one,
 * the observed range replaces it, with an `initial-resolved-range-adopted` warning naming both.
 * Cloudflare's value decides because the range is an account-wide setting every device and
 * Gateway already use; tunnelplane never writes it.
 */
export function adoptObservedRange(
  desired: DesiredState,
  observed: ObservedState,
): { desired: DesiredState; warnings: PlanWarning[] } {
  const stored = desired.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4;
  const real = observed.initialResolvedIpv4;
  if (real === undefined || real === stored) {
    return { desired, warnings: [] };
  }
  return {
    desired: { ...desired, initialResolvedIpv4: real },
    warnings: [
      {
        code: "initial-resolved-range-adopted",
        kind: "hostname_route",
        key: INITIAL_RESOLVED_KEY,
        message: `Cloudflare's initial resolved range is ${real}, not ${stored} as stored: tunnelplane adopts ${real} for reserved ranges and split tunnels`,
      },
    ],
  };
}

/**
 * Each observed profile's fallback suffixes, keyed by `default` or the custom profile's
 * tunnelplane id (its description's marker; `cloudflare:<policy_id>` for one it does not own);
 * profiles whose list was not read are left out. Undefined when no profile's list was read.
 */
export function observedFallbackDomains(
  observed: ObservedState,
): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  for (const list of observed.splitTunnels) {
    if (list.fallbackDomains !== undefined) {
      out[list.profileId] = list.fallbackDomains;
    }
  }
  for (const profile of observed.deviceProfiles) {
    if (profile.fallbackDomains !== undefined) {
      const key = readMarker(profile.description).ownerId ?? `cloudflare:${profile.cloudflareId}`;
      out[key] = profile.fallbackDomains;
    }
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * One `hostname-route-local-fallback` warning per live desired hostname route and observed
 * profile whose Local Domain Fallback covers the route's names (see findLocalFallbackConflicts).
 */
export function localFallbackWarnings(
  desired: DesiredState,
  observed: ObservedState,
): PlanWarning[] {
  const lists = observedFallbackDomains(observed) ?? {};
  const routes = liveOf(desired, "hostname_route").map((o) => ({
    id: o.id,
    hostname: o.spec.hostname,
  }));
  const profiles = Object.entries(lists).map(([profile, suffixes]) => ({
    profile,
    suffixes,
    assumedDefault: false,
  }));
  return findLocalFallbackConflicts(routes, profiles).map((conflict) => ({
    code: conflict.code,
    kind: "hostname_route",
    key: conflict.routeId,
    message: describeLocalFallbackConflict(conflict),
  }));
}
