/**
 * Routes that collide with a user's local network. Traffic to the local subnet stays on the LAN,
 * so the overlapping part of a route is unreachable from that network.
 */
import {
  type CidrError,
  formatPrefix,
  intersection,
  minimalCover,
  parseCidr,
  parseKnownCidr,
  prefixesOverlap,
} from "../cidr";
import { err, ok, type Result } from "../result";
import { HOME_LAN_RANGES } from "./defaults";

/** A route sharing addresses with a LAN range; `shadowed` is the overlap (canonical CIDRs). */
export interface LanOverlap {
  /** Canonical CIDR of the route. */
  routeNetwork: string;
  /** Canonical CIDR of the LAN range. */
  lanRange: string;
  /** The route's addresses a user on that LAN cannot reach, as the minimal cover. */
  shadowed: string[];
}

function overlapsWith(lanNetworks: readonly string[], routes: readonly string[]): LanOverlap[] {
  const overlaps: LanOverlap[] = [];
  const lanPrefixes = lanNetworks.map(parseKnownCidr);
  for (const network of routes) {
    const route = parseKnownCidr(network);
    for (const lan of lanPrefixes) {
      if (prefixesOverlap(route, lan)) {
        overlaps.push({
          routeNetwork: formatPrefix(route),
          lanRange: formatPrefix(lan),
          shadowed: minimalCover(intersection([route], [lan])).map(formatPrefix),
        });
      }
    }
  }
  return overlaps;
}

/**
 * Routes that overlap a common home-router subnet (`HOME_LAN_RANGES`), one item per (route,
 * range) pair, in route order then table order. Routes must be valid CIDRs (else `RangeError`).
 */
export function homeLanOverlaps(routes: readonly string[]): LanOverlap[] {
  return overlapsWith(HOME_LAN_RANGES, routes);
}

/**
 * Routes a client on the LAN `lan` cannot reach through WARP, one item per overlapping route in
 * route order. `lan` is user input (an address or CIDR, host bits set allowed: `192.168.1.23/24`
 * is how a client reports its interface); errors are `invalid-cidr` from `parseCidr`.
 */
export function clientLanShadows(
  lan: string,
  routes: readonly string[],
): Result<LanOverlap[], CidrError> {
  const parsed = parseCidr(lan);
  if (parsed.ok) {
    return ok(overlapsWith([formatPrefix(parsed.value)], routes));
  }
  if (parsed.error.code === "host-bits-set") {
    return ok(overlapsWith([parsed.error.canonical], routes));
  }
  return err(parsed.error);
}
