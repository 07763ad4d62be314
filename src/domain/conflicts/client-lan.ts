/**
 * A user's own LAN against the account's routes: traffic to the local subnet never enters WARP,
 * so the overlapping part of each route is unreachable from that network.
 */
import { type CidrError, formatPrefix, parseCidr } from "../cidr";
import { err, ok, type Result } from "../result";
import type { RouteRef } from "../routes/conflicts";
import { clientLanShadows } from "../split-tunnels/home-lan";

/** One route a LAN shadows. */
export interface ShadowedRoute {
  route: RouteRef;
  /** The route's addresses the LAN hides, as the minimal cover (canonical CIDRs). */
  shadowed: string[];
  /** True when the LAN hides the whole route. */
  isWhollyShadowed: boolean;
}

/** The canonical LAN and the routes it shadows. */
export interface ClientLanCheck {
  /** The LAN as a canonical CIDR (host bits cleared: `192.168.1.23/24` -> `192.168.1.0/24`). */
  lan: string;
  routes: ShadowedRoute[];
}

/**
 * The routes a client on `lan` cannot fully reach, in input order. `lan` is an address or CIDR
 * as a client reports its interface (host bits may be set). Errors: `invalid-cidr` only.
 * Route networks must be canonical CIDRs (else `RangeError`).
 */
export function checkClientLan(
  lan: string,
  routes: readonly RouteRef[],
): Result<ClientLanCheck, CidrError> {
  const parsed = parseCidr(lan);
  let canonical: string;
  if (parsed.ok) {
    canonical = formatPrefix(parsed.value);
  } else if (parsed.error.code === "host-bits-set") {
    canonical = parsed.error.canonical;
  } else {
    return err(parsed.error);
  }
  const shadows = clientLanShadows(canonical, [...new Set(routes.map((r) => r.network))]);
  if (!shadows.ok) {
    return err(shadows.error);
  }
  const byNetwork = new Map(shadows.value.map((s) => [s.routeNetwork, s.shadowed]));
  return ok({
    lan: canonical,
    routes: routes.flatMap((route) => {
      const shadowed = byNetwork.get(route.network);
      return shadowed === undefined
        ? []
        : [
            {
              route,
              shadowed,
              isWhollyShadowed: shadowed.length === 1 && shadowed[0] === route.network,
            },
          ];
    }),
  });
}
