/**
 * What one route write does to the split tunnels: the problems the route has in every profile
 * that follows its virtual network, once written. Route writes refuse the errors (an `auto` list
 * would send the route around WARP) and return the rest as warnings (among them a route that
 * carves a local WARP default out of an `auto` Exclude list).
 */
import type { Db } from "../../db/client";
import {
  type AccountConflict,
  findAccountConflicts,
  type ProfileProblem,
} from "../../domain/conflicts/account";
import type { RouteRef } from "../../domain/routes/conflicts";
import { loadAccountCheckInput } from "./load";

function isProfileProblem(conflict: AccountConflict): conflict is ProfileProblem {
  return (
    conflict.code === "route-excluded" ||
    conflict.code === "route-not-included" ||
    conflict.code === "local-default-routed"
  );
}

/**
 * The split tunnel problems of `route` (replacing the stored route with the same id, if any),
 * default profile first, then device profiles by precedence.
 */
export async function splitTunnelProblemsOf(
  db: Db,
  accountId: string,
  route: RouteRef,
): Promise<ProfileProblem[]> {
  const input = await loadAccountCheckInput(db, accountId);
  const routes = [...input.routes.filter((r) => r.id !== route.id), route];
  return findAccountConflicts(routes, input.profiles, input.defaultVirtualNetworkId, input.account)
    .filter(isProfileProblem)
    .filter((problem) => problem.routeIds.includes(route.id));
}
