/**
 * Which assertions a desired-state write can change the outcome of, so the guard re-runs only
 * those. An assertion's verdict depends on the route, split tunnel entry, proxy setting and
 * policies for its one destination address; a write whose reach (the addresses it can change
 * anything for) misses that address leaves the verdict as it was. Kinds not analysed here reach
 * every address, so the filter only ever skips assertions it can prove unaffected.
 */
import { parseKnownCidr, prefixContains } from "../cidr";
import type { DesiredObject } from "../model";
import type { AssertionInput } from "./assertions";

/** The addresses a change can affect: every one, or those of the listed canonical CIDRs. */
export type ChangeReach = { scope: "everything" } | { scope: "networks"; networks: string[] };

const EVERYTHING: ChangeReach = { scope: "everything" };

/**
 * The reach of one version of an object (the stored one a write replaces or deletes, or the one
 * it writes; undefined for none):
 * - a tunnel route reaches its network: it decides which route carries those addresses and, in
 *   an `auto` list, their split tunnel entry; an `auto` list cut to its `max_entries` moves only
 *   unrouted addresses, which no route carries before or after, so they are never `allowed`;
 * - a network policy reaches its destinations, a private app those of its policies: a policy
 *   that cannot match the address leaves first-match evaluation as it was. Not so while grants
 *   are active (`hasActiveGrants`): a grant's precedence is placed among every policy's, so any
 *   policy write reaches everything;
 * - assertions, enrollment rules, hostname routes and device profiles reach nothing: the view
 *   assertions run on (`desiredView` of the default profile) reads none of them;
 * - every other kind (virtual networks, tunnels, the default split tunnel, proxy settings)
 *   reaches everything.
 */
export function reachOfObject(
  object: DesiredObject | undefined,
  hasActiveGrants: boolean,
): ChangeReach {
  if (object === undefined) {
    return { scope: "networks", networks: [] };
  }
  switch (object.kind) {
    case "tunnel_route":
      return {
        scope: "networks",
        networks: [(object as DesiredObject<"tunnel_route">).spec.network],
      };
    case "network_policy": {
      const { destinations } = (object as DesiredObject<"network_policy">).spec;
      // No destinations means every destination.
      return hasActiveGrants || destinations.length === 0
        ? EVERYTHING
        : { scope: "networks", networks: destinations };
    }
    case "private_app": {
      const { destinations } = (object as DesiredObject<"private_app">).spec;
      return hasActiveGrants || destinations.length === 0
        ? EVERYTHING
        : { scope: "networks", networks: destinations.map((d) => d.cidr) };
    }
    case "assertion":
    case "enrollment_rule":
    case "hostname_route":
    case "device_profile":
      return { scope: "networks", networks: [] };
    default:
      return EVERYTHING;
  }
}

/**
 * The assertions whose destination lies in one of `reaches` (all of them when one reaches
 * everything), in input order. Destinations are valid addresses and networks canonical CIDRs
 * (stored state is); anything else throws `RangeError`.
 */
export function assertionsReached(
  assertions: readonly AssertionInput[],
  reaches: readonly ChangeReach[],
): AssertionInput[] {
  const networks: string[] = [];
  for (const reach of reaches) {
    if (reach.scope === "everything") {
      return [...assertions];
    }
    networks.push(...reach.networks);
  }
  const prefixes = networks.map(parseKnownCidr);
  return assertions.filter((assertion) => {
    const address = parseKnownCidr(assertion.spec.destinationIp);
    return prefixes.some((prefix) => prefixContains(prefix, address));
  });
}
