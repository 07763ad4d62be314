/**
 * The split tunnel list a device profile should carry, computed from the profile spec, the
 * routed networks and the account's team domain, and the routes (and team domain) that list
 * leaves out. Pure and deterministic: the same spec and routes (in any order) give the same
 * entries in the same order.
 */
import {
  type AddressRange,
  DEFAULT_INITIAL_RESOLVED_IPV4,
  difference,
  formatPrefix,
  intersectRange,
  minimalCover,
  parseKnownCidr,
  parseKnownNetwork,
  rangeOfPrefix,
  toAddressSet,
} from "../cidr";
import type { DesiredState, SplitTunnelEntry, SplitTunnelProfileSpec } from "../model";
import { DEFAULT_MAX_ENTRIES, fitExcludes, type ListCost, networkText } from "./budget";
import { fitIncludes } from "./budget-include";
import { carveDefaults, carvedEntries, includeRoutes, routedCover } from "./carve";
import {
  LOCAL_DEFAULT_EXCLUDES,
  type SplitTunnelAddressEntry,
  WARP_DEFAULT_EXCLUDES,
} from "./defaults";
import type { EffectiveSplitTunnelEntry } from "./entry";
import { RouteIndex } from "./route-index";

/** The description of the team domain entry: Cloudflare shows it in the WARP client. */
const TEAM_DOMAIN_DESCRIPTION = "Zero Trust team domain: enrolment, posture and Access sessions";

export type { EffectiveEntrySource, EffectiveSplitTunnelEntry } from "./entry";

/**
 * A routed network the list makes (partly) unreachable, or that makes local addresses
 * unreachable. `severity` is `error` when tunnelplane computes the list (`auto`) and the user's
 * own entry defeats a route, `warning` otherwise.
 * - `route-excluded`: an Exclude entry shares addresses with the route; `unreachable` is that
 *   overlap (the more specific of the two prefixes).
 * - `route-not-included`: Include mode without `auto`, and no include entry covers `unreachable`
 *   (the minimal cover of the route's uncovered part); `entry` is null.
 * - `local-default-routed`: Exclude mode with `auto`, and the route carves a local WARP default
 *   (`LOCAL_DEFAULT_EXCLUDES`) out of the list; `unreachable` is their overlap (the more specific
 *   of the two prefixes), which now goes through WARP instead of the device's link.
 */
export type RouteProblem =
  | {
      code: "route-excluded";
      severity: "error" | "warning";
      /** Canonical CIDR of the route. */
      routeNetwork: string;
      /** The Exclude entry, as listed. */
      entry: SplitTunnelEntry;
      /** Canonical CIDRs of the route's addresses that bypass WARP. */
      unreachable: string[];
    }
  | {
      code: "route-not-included";
      severity: "warning";
      routeNetwork: string;
      entry: null;
      unreachable: string[];
    }
  | {
      code: "local-default-routed";
      severity: "warning";
      routeNetwork: string;
      /** The WARP default Exclude entry the route carves, as in `WARP_DEFAULT_EXCLUDES`. */
      entry: SplitTunnelAddressEntry;
      /** What the device uses the default's addresses for (`LOCAL_DEFAULT_EXCLUDES`). */
      purpose: string;
      /** Canonical CIDRs of the default's addresses that now go through WARP. */
      unreachable: string[];
    };

/**
 * An Include list without the team domain, whose traffic must go through WARP for device
 * enrolment, posture checks and Access sessions. Always a warning. (An Exclude entry sending the
 * team domain around WARP is harmless and not reported.)
 * - `team-domain-not-included`: no host entry covers `teamDomain` (Include mode without `auto`).
 * - `team-domain-unknown`: the account has no team domain, so it can be neither added nor checked.
 */
export type TeamDomainProblem =
  | { code: "team-domain-not-included"; severity: "warning"; teamDomain: string }
  | { code: "team-domain-unknown"; severity: "warning" };

/** Anything wrong with an effective list; `code` tells them apart. */
export type SplitTunnelProblem = RouteProblem | TeamDomainProblem;

/** What the account, rather than the profile, adds to a profile's list. */
export interface SplitTunnelAccountSettings {
  /** The Zero Trust team domain, `<team>.cloudflareaccess.com` in lower case, or null. */
  teamDomain: string | null;
  /**
   * The account's IPv4 initial resolved IP range (canonical CIDR) when it has hostname routes,
   * whose DNS answers come from that range; null or absent when it has none.
   */
  initialResolvedIpv4?: string | null;
}

/** The description of the entry that sends a custom initial resolved range through WARP. */
export const INITIAL_RESOLVED_DESCRIPTION = "Gateway initial resolved IPs";

/**
 * The initial resolved range a list must send through WARP: a custom one, when the account has
 * hostname routes. WARP routes the default range (`172.64.128.0/20`, and the fixed IPv6 range
 * inside `2606:4700:cf1::/48`) by itself, so it is never listed.
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/configure-initial-resolved-ips/
 */
export function initialResolvedToRoute(account: SplitTunnelAccountSettings): string[] {
  const range = account.initialResolvedIpv4 ?? null;
  return range === null || range === DEFAULT_INITIAL_RESOLVED_IPV4 ? [] : [range];
}

/**
 * What the desired state's account adds to every list: its team domain, and its initial
 * resolved range when it has live hostname routes.
 */
export function splitTunnelSettingsOf(desired: DesiredState): SplitTunnelAccountSettings {
  const hasHostnameRoutes = desired.objects.some(
    (o) => o.kind === "hostname_route" && o.deletedAtMs === null,
  );
  return {
    teamDomain: desired.teamDomain ?? null,
    initialResolvedIpv4: hasHostnameRoutes
      ? (desired.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4)
      : null,
  };
}

/** The Include entry for a custom initial resolved range, unless a user entry has that address. */
function includeInitialResolved(
  ranges: readonly string[],
  user: readonly SplitTunnelEntry[],
): EffectiveSplitTunnelEntry[] {
  const userAddresses = new Set(user.map(canonicalAddressOf));
  return ranges
    .filter((range) => !userAddresses.has(range))
    .map((range) => ({
      address: range,
      description: INITIAL_RESOLVED_DESCRIPTION,
      source: { kind: "initial-resolved-ips" },
    }));
}

/** An `auto` list cut to fit the profile's `max_entries`, and what the cut costs. */
export interface SplitTunnelFit {
  /** Entries of the exact list, before the cut (more than `max_entries`). */
  exactEntries: number;
  cost: ListCost;
}

/**
 * The effective list and the problems found with it; `fit` only when the exact list was longer
 * than the profile's `max_entries` and was cut (the list is then at most that long).
 */
export interface EffectiveSplitTunnel {
  entries: EffectiveSplitTunnelEntry[];
  problems: SplitTunnelProblem[];
  fit?: SplitTunnelFit;
}

function canonicalAddressOf(entry: SplitTunnelEntry): string | undefined {
  return "address" in entry ? parseKnownNetwork(entry.address).network : undefined;
}

/** `LOCAL_DEFAULT_EXCLUDES` purposes by address. */
const LOCAL_PURPOSES = new Map(
  LOCAL_DEFAULT_EXCLUDES.map((local) => [local.address, local.purpose]),
);

/** One warning per (local default, route) pair sharing addresses, by default then route. */
function routedLocalDefaults(routes: RouteIndex): RouteProblem[] {
  const problems: RouteProblem[] = [];
  for (const entry of WARP_DEFAULT_EXCLUDES) {
    const purpose = LOCAL_PURPOSES.get(entry.address);
    if (purpose === undefined) {
      continue;
    }
    const local = parseKnownNetwork(entry.address);
    for (const route of routes.overlapping(local)) {
      const inner = route.prefixLength >= local.prefixLength ? route : local;
      problems.push({
        code: "local-default-routed",
        severity: "warning",
        routeNetwork: route.network,
        entry,
        purpose,
        unreachable: [inner.network],
      });
    }
  }
  return problems;
}

/** Whether a host entry of `entries` covers `domain`: itself, or `*.` and a parent of it. */
function coversHost(entries: readonly SplitTunnelEntry[], domain: string): boolean {
  return entries.some(
    (entry) =>
      "host" in entry &&
      (entry.host === domain ||
        (entry.host.startsWith("*.") && domain.endsWith(entry.host.slice(1)))),
  );
}

/** The team domain as a computed entry, unless it is unknown or a user entry covers it. */
function includeTeamDomain(
  teamDomain: string | null,
  user: readonly SplitTunnelEntry[],
): EffectiveSplitTunnelEntry[] {
  return teamDomain === null || coversHost(user, teamDomain)
    ? []
    : [{ host: teamDomain, description: TEAM_DOMAIN_DESCRIPTION, source: { kind: "team-domain" } }];
}

/** What an Include list (`includes`, the final one) lacks about the team domain. */
function teamDomainProblems(
  includes: readonly SplitTunnelEntry[],
  teamDomain: string | null,
): TeamDomainProblem[] {
  if (teamDomain === null) {
    return [{ code: "team-domain-unknown", severity: "warning" }];
  }
  return coversHost(includes, teamDomain)
    ? []
    : [{ code: "team-domain-not-included", severity: "warning", teamDomain }];
}

/** Computed entries first, then the user's; a user entry replaces a computed one at its address. */
function withUserEntries(
  computed: EffectiveSplitTunnelEntry[],
  user: readonly SplitTunnelEntry[],
): EffectiveSplitTunnelEntry[] {
  if (user.length === 0) {
    // The computed list can run to thousands of entries; no need to copy it.
    return computed;
  }
  const userAddresses = new Set(user.map(canonicalAddressOf));
  // Computed addresses are canonical already; only the user's need parsing.
  return [
    ...computed.filter((entry) => !("address" in entry && userAddresses.has(entry.address))),
    ...user.map((entry) => ({ ...entry, source: { kind: "user" } as const })),
  ];
}

/** The `fit` field of a result: present only when the list was cut. */
function fitOf(isCut: boolean, cost: ListCost, exactEntries: () => number) {
  return isCut ? { fit: { exactEntries: exactEntries(), cost } } : {};
}

/** How many entries `withUserEntries(computed, user)` holds. */
function countWithUserEntries(
  computed: readonly ({ address: string } | { host: string })[],
  user: readonly SplitTunnelEntry[],
): number {
  const userAddresses = new Set(user.map(canonicalAddressOf));
  return (
    computed.filter((entry) => !("address" in entry && userAddresses.has(entry.address))).length +
    user.length
  );
}

function excludedRoutes(
  excludes: readonly SplitTunnelEntry[],
  routes: RouteIndex,
  severity: "error" | "warning",
): RouteProblem[] {
  const problems: RouteProblem[] = [];
  for (const entry of excludes) {
    if (!("address" in entry)) {
      continue;
    }
    const excluded = parseKnownNetwork(entry.address);
    for (const route of routes.overlapping(excluded)) {
      const inner = route.prefixLength >= excluded.prefixLength ? route : excluded;
      problems.push({
        code: "route-excluded",
        severity,
        routeNetwork: route.network,
        entry,
        unreachable: [inner.network],
      });
    }
  }
  return problems;
}

function uncoveredRoutes(
  includes: readonly SplitTunnelEntry[],
  routes: RouteIndex,
): RouteProblem[] {
  const included: AddressRange[] = toAddressSet(
    includes.flatMap((entry) => ("address" in entry ? [parseKnownCidr(entry.address)] : [])),
  );
  const problems: RouteProblem[] = [];
  for (const route of routes.routes) {
    const range = rangeOfPrefix(route.prefix);
    const missing = difference([range], intersectRange(included, range));
    if (missing.length > 0) {
      problems.push({
        code: "route-not-included",
        severity: "warning",
        routeNetwork: route.network,
        entry: null,
        unreachable: minimalCover(missing).map(formatPrefix),
      });
    }
  }
  return problems;
}

/** The route problems of a list, by the rules of `effectiveSplitTunnel`. */
function routeProblems(spec: SplitTunnelProfileSpec, routes: RouteIndex): RouteProblem[] {
  if (!spec.auto) {
    return spec.mode === "exclude"
      ? excludedRoutes(spec.entries, routes, "warning")
      : uncoveredRoutes(spec.entries, routes);
  }
  return spec.mode === "exclude"
    ? [...excludedRoutes(spec.entries, routes, "error"), ...routedLocalDefaults(routes)]
    : [];
}

/**
 * The route problems (`RouteProblem`) `effectiveSplitTunnel(spec, routedNetworks)` reports, in
 * its order, without computing the list. A route's problems depend on the profile and that route
 * alone, so a route write checks its own network: `splitTunnelRouteProblems(spec, [network])`
 * equals the problems of the whole account's list about that network.
 */
export function splitTunnelRouteProblems(
  spec: SplitTunnelProfileSpec,
  routedNetworks: readonly string[],
): RouteProblem[] {
  return routeProblems(spec, new RouteIndex(routedNetworks));
}

/**
 * Computes a profile's effective split tunnel list (DESIGN.md §1, §5).
 *
 * - Exclude + `auto`: every WARP default (`WARP_DEFAULT_EXCLUDES`) minus every routed range,
 *   each default replaced by the minimal cover of what is left of it (remainders keep the
 *   default's description), then the user's entries. A user exclude overlapping a route: error.
 *   A route carving a local default (`LOCAL_DEFAULT_EXCLUDES`: DHCP, link-local, local
 *   multicast) is a `local-default-routed` warning; the other defaults are there to be carved.
 * - Include + `auto`: the minimal cover of the union of the routed ranges, then the account's
 *   team domain as a host entry (left out when a user entry covers it), then the user's entries.
 * - `auto` false: exactly the user's entries. An exclude overlapping a route is a warning; in
 *   Include mode, a route not fully covered by the include entries is a warning, and so is a team
 *   domain no host entry covers.
 * - Include mode and `account.teamDomain` null (also when `account` is left out): a
 *   `team-domain-unknown` warning.
 * - A custom initial resolved range (`initialResolvedToRoute`: the account has hostname routes
 *   and a range other than the default) counts as a routed range: carved out of an `auto`
 *   Exclude list, checked against user entries, and in an `auto` Include list as its own entry
 *   (description `INITIAL_RESOLVED_DESCRIPTION`, source `initial-resolved-ips`) after the routes.
 * - `auto` and an exact list longer than `spec.maxEntries` (default `DEFAULT_MAX_ENTRIES`, user
 *   entries and the team domain entry counted): the computed part is cut to fit by `fitExcludes`
 *   or `fitIncludes` (every routed address stays in WARP), and `fit` reports the exact length and
 *   the cost. A cut Exclude list keeps the order of the exact one; a list that fits is unchanged.
 *
 * Cloudflare: in Include mode, `<team>.cloudflareaccess.com` must be in the list for device
 * posture, WARP sessions and enrolment to work; a host `example.com` matches only that name,
 * `*.example.com` every subdomain (at any depth) but not `example.com` itself. The same page also
 * asks for the IdP's domains and the protected apps, which tunnelplane does not know.
 *
 * Order: computed entries (defaults in table order, each default's remainders by ascending
 * address; include prefixes IPv4 before IPv6 by address, then the team domain), then user entries
 * as listed. A user address entry replaces the computed entry with the same network. Problems
 * are ordered by user entry then route (Exclude), then local default (table order) then route
 * (Exclude + `auto`), or by route then the team domain (Include);
 * routes sort IPv4 first, by address, broadest first. Other host entries are kept but never
 * checked (they resolve on the client).
 *
 * `routedNetworks` and address entries must be valid CIDRs (desired state is stored canonical);
 * anything else is a broken invariant and throws `RangeError`. Hosts are compared as given
 * (stored lower case).
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/route-traffic/split-tunnels/#cloudflare-zero-trust-domains
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/route-traffic/split-tunnels/#valid-domains
 */
export function effectiveSplitTunnel(
  spec: SplitTunnelProfileSpec,
  routedNetworks: readonly string[],
  account: SplitTunnelAccountSettings = { teamDomain: null },
): EffectiveSplitTunnel {
  const initialResolved = initialResolvedToRoute(account);
  const routes = new RouteIndex(routedNetworks);
  // Problems and carving treat the initial resolved range as one more route.
  const reached =
    initialResolved.length === 0 ? routes : new RouteIndex([...routedNetworks, ...initialResolved]);
  const maxEntries = spec.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!spec.auto) {
    return {
      entries: withUserEntries([], spec.entries),
      problems:
        spec.mode === "exclude"
          ? routeProblems(spec, reached)
          : [
              ...routeProblems(spec, reached),
              ...teamDomainProblems(spec.entries, account.teamDomain),
            ],
    };
  }
  if (spec.mode === "exclude") {
    const exact = carveDefaults(reached);
    const room = Math.max(0, maxEntries - spec.entries.length);
    const fit = fitExcludes(exact.networks, room);
    const isCut = fit.kept.length < exact.networks.length;
    return {
      entries: withUserEntries(carvedEntries(exact, fit.kept), spec.entries),
      problems: routeProblems(spec, reached),
      ...fitOf(isCut, fit.cost, () =>
        // Only a user address entry can replace a computed one; most lists have none.
        spec.entries.some((entry) => "address" in entry)
          ? countWithUserEntries(
              carvedEntries(
                exact,
                exact.networks.map((network, i) => ({ network, members: [i] })),
              ),
              spec.entries,
            )
          : exact.networks.length + spec.entries.length,
      ),
    };
  }
  const teamDomain = includeTeamDomain(account.teamDomain, spec.entries);
  const resolved = includeInitialResolved(initialResolved, spec.entries);
  const cover = routedCover(routes);
  const fit = fitIncludes(
    cover,
    maxEntries - spec.entries.length - teamDomain.length - resolved.length,
  );
  const entries = withUserEntries(
    [...includeRoutes(routes, fit.entries), ...resolved, ...teamDomain],
    spec.entries,
  );
  return {
    entries,
    problems: teamDomainProblems(entries, account.teamDomain),
    ...fitOf(fit.entries.length < cover.length, fit.cost, () =>
      // Only a user address entry can replace a computed one; most lists have none.
      spec.entries.some((entry) => "address" in entry)
        ? countWithUserEntries(
            [...cover.map((n) => ({ address: networkText(n) })), ...resolved, ...teamDomain],
            spec.entries,
          )
        : cover.length + resolved.length + teamDomain.length + spec.entries.length,
    ),
  };
}
