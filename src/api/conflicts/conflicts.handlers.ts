/** Handlers of the conflict list and the client LAN check. */
import { createDb, type Db } from "../../db/client";
import { getObject, listAllObjects } from "../../db/desired-objects.repo";
import { listNestedRoutes, listRouteVirtualNetworkOrder } from "../../db/route-ranges.repo";
import { type AccountConflict, findAccountConflicts } from "../../domain/conflicts/account";
import { inVirtualNetworkOrder } from "../../domain/conflicts/candidates";
import { checkClientLan as check } from "../../domain/conflicts/client-lan";
import { findHostnameRouteConflicts } from "../../domain/conflicts/hostname-routes";
import { findLocalFallbackConflicts } from "../../domain/routes/local-fallback";
import type { AppHandler } from "../context";
import { requireAccount } from "../desired/account-guard";
import { describeCidrError } from "../fields";
import { loadProfileFallbacks } from "../hostname-routes/local-fallback";
import { privateAppProblems } from "../private-apps/reach";
import { validationProblem } from "../problem";
import type * as endpoints from "./conflicts.endpoints";
import { toClientLanResource, toConflictResource } from "./conflicts.schemas";
import { loadConflictCheckInput, toRouteRefs } from "./load";

/**
 * `conflicts` found over a focused set of routes with duplicates and overlaps in the order of
 * the account's virtual networks (one more query, only when they span several).
 */
async function inAccountVirtualNetworkOrder(
  db: Db,
  accountId: string,
  conflicts: AccountConflict[],
  isFocused: boolean,
): Promise<AccountConflict[]> {
  const vnets = new Set(
    conflicts.flatMap((c) =>
      c.code === "duplicate-route" || c.code === "route-overlap" ? [c.virtualNetworkId] : [],
    ),
  );
  return isFocused && vnets.size > 1
    ? inVirtualNetworkOrder(conflicts, await listRouteVirtualNetworkOrder(db, accountId))
    : conflicts;
}

/**
 * Every conflict and warning of a registered account's desired state: route and split-tunnel
 * conflicts, hostname routes without the proxy or under a profile's Local Domain Fallback,
 * unreachable private apps (what `GET conflicts` lists, and the dashboard shows). Reads only the
 * routes a conflict can be about (see loadConflictCheckInput).
 */
export async function findConflicts(db: Db, account_id: string): Promise<AccountConflict[]> {
  const [input, hostnameRoutes, proxy, apps, fallbacks] = await Promise.all([
    loadConflictCheckInput(db, account_id),
    listAllObjects(db, account_id, "hostname_route"),
    getObject(db, account_id, "proxy_settings", "default"),
    listAllObjects(db, account_id, "private_app"),
    loadProfileFallbacks(db, account_id),
  ]);
  const unreachable = await privateAppProblems(
    db,
    account_id,
    apps.map((a) => ({
      id: a.id,
      name: a.spec.name,
      destinations: a.spec.destinations.map((d) => d.cidr),
    })),
  );
  return [
    ...(await inAccountVirtualNetworkOrder(
      db,
      account_id,
      findAccountConflicts(
        input.routes,
        input.profiles,
        input.defaultVirtualNetworkId,
        input.account,
        input.reservedRanges,
      ),
      input.isFocused,
    )),
    ...findHostnameRouteConflicts(
      hostnameRoutes.map((r) => ({ id: r.id, hostname: r.spec.hostname })),
      proxy?.spec ?? null,
    ),
    ...findLocalFallbackConflicts(
      hostnameRoutes.map((r) => ({ id: r.id, hostname: r.spec.hostname })),
      fallbacks,
    ),
    ...unreachable,
  ];
}

export const list: AppHandler<typeof endpoints.list> = async (c) => {
  const { account_id } = c.req.valid("param");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const conflicts = await findConflicts(db, account_id);
  const errors = conflicts.filter((conflict) => conflict.severity === "error").length;
  return c.json(
    {
      items: conflicts.map(toConflictResource),
      counts: { errors, warnings: conflicts.length - errors },
    },
    200,
  );
};

export const checkClientLan: AppHandler<typeof endpoints.checkClientLan> = async (c) => {
  const { account_id } = c.req.valid("param");
  const { lan } = c.req.valid("json");
  const db = createDb(c.env.DB);
  await requireAccount(db, account_id);
  const canonical = check(lan, []);
  // The routes a LAN shadows are those nesting with it, which the range index finds.
  const result = canonical.ok
    ? check(lan, toRouteRefs(await listNestedRoutes(db, account_id, canonical.value.lan)))
    : canonical;
  if (!result.ok) {
    // The schema already refuses what parseCidr refuses; kept so a divergence is a 422, not a 500.
    const { message, code } = describeCidrError(result.error);
    throw validationProblem("The LAN is not valid.", [{ pointer: "#/lan", detail: message, code }]);
  }
  return c.json(toClientLanResource(result.value), 200);
};
