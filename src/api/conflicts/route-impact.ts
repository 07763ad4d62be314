/**
 * What one route write does to the split tunnels: the problems the route has in every profile
 * that follows its virtual network, once written. Route writes refuse the errors (an `auto` list
 * would send the route around WARP) and return the rest as warnings (among them a route that
 * carves a local WARP default out of an `auto` Exclude list). Only the profiles are read, never
 * the other routes: a route's problems do not depend on them.
 */
import type { Db } from "../../db/client";
import { type ProfileProblem, routeProfileProblems } from "../../domain/conflicts/account";
import type { RouteRef } from "../../domain/routes/conflicts";
import { loadAccountProfiles } from "./load";

/**
 * The split tunnel problems of `route` (replacing the stored route with the same id, if any),
 * default profile first, then device profiles by precedence; `routeIds` holds just `route.id`.
 */
export async function splitTunnelProblemsOf(
  db: Db,
  accountId: string,
  route: RouteRef,
): Promise<ProfileProblem[]> {
  const { profiles, defaultVirtualNetworkId } = await loadAccountProfiles(db, accountId);
  return routeProfileProblems(route, profiles, defaultVirtualNetworkId);
}
