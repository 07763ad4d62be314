/**
 * Loading the network views explain and assertions work on: the desired state from D1 (with each
 * tunnel's health as the last run observed it), or Cloudflare observed now.
 */
import type { Db } from "../../db/client";
import { listAllObjects, loadDesiredState } from "../../db/desired-objects.repo";
import { loadActiveGrantSources, loadDesiredWithGrants } from "../../db/grants.repo";
import { listRoutesCovering } from "../../db/route-ranges.repo";
import type { ViewError } from "../../domain/explain/view";
import { desiredView, type NetworkView, observedView } from "../../domain/explain/view";
import type { DesiredState } from "../../domain/model";
import type { Result } from "../../domain/result";
import { createReconcileDeps } from "../../reconciler/deps";
import { observeAccountNow } from "../../reconciler/observe-now";
import { ProblemError, validationProblem } from "../problem";

/** The account's desired state and the health of its tunnels as last observed. */
export interface DesiredNetwork {
  desired: DesiredState;
  /** tunnelplane tunnel id -> Cloudflare health (`healthy`, `down`, …). */
  tunnelHealth: Map<string, string>;
}

async function withTunnelHealth(
  db: Db,
  accountId: string,
  loading: Promise<DesiredState>,
): Promise<DesiredNetwork> {
  const [desired, tunnels] = await Promise.all([loading, listAllObjects(db, accountId, "tunnel")]);
  const tunnelHealth = new Map<string, string>();
  for (const tunnel of tunnels) {
    const health = tunnel.observed?.health;
    if (typeof health === "string") {
      tunnelHealth.set(tunnel.id, health);
    }
  }
  return { desired, tunnelHealth };
}

/**
 * Reads the desired state (tombstones included, with the active grants whose policies the
 * planner derives, as the planner sees it) and tunnel health.
 */
export function loadDesiredNetwork(db: Db, accountId: string): Promise<DesiredNetwork> {
  return withTunnelHealth(db, accountId, loadDesiredWithGrants(db, accountId, Date.now()));
}

/**
 * As `loadDesiredNetwork`, but of the tunnel routes only the live ones containing one of
 * `addresses`, read through the range index: what explaining a connection to those addresses
 * needs to reach its verdict (the route that carries it; in an `auto` list, routed addresses
 * are never excluded and always included), at a cost that does not grow with the account's
 * routes. The split tunnel entries named on it may differ from the whole state's.
 */
export function loadDesiredNetworkAround(
  db: Db,
  accountId: string,
  addresses: readonly string[],
): Promise<DesiredNetwork> {
  const loading = Promise.all([
    loadDesiredState(db, accountId, false),
    listRoutesCovering(db, accountId, addresses),
    loadActiveGrantSources(db, accountId, Date.now()),
  ]).then(([desired, routes, grants]) => ({
    ...desired,
    objects: [...desired.objects, ...routes],
    grants,
  }));
  return withTunnelHealth(db, accountId, loading);
}

/**
 * The view, or a 422 naming `pointer` when the device profile does not exist (`#/virtual_network_id`
 * when the virtual network does not).
 * @throws ProblemError validation-failed
 */
export function viewOr422(view: Result<NetworkView, ViewError>, pointer: string): NetworkView {
  if (!view.ok) {
    const error = view.error;
    throw error.code === "unknown-profile"
      ? validationProblem("The device profile does not exist.", [
          {
            pointer,
            detail: `no device profile ${error.profile} in this account (use default or a device profile id)`,
            code: "unknown-reference",
          },
        ])
      : validationProblem("The virtual network does not exist.", [
          {
            pointer: "#/virtual_network_id",
            detail: `no virtual network ${error.virtualNetwork} in this account (use default or a virtual network id)`,
            code: "unknown-reference",
          },
        ]);
  }
  return view.value;
}

/** What explain looks through: the device profile and the selected virtual network. */
export interface ViewSelection {
  profile: string;
  /** `default` or a virtual network id. */
  virtualNetwork: string;
}

/** The desired view for `selection`. @throws ProblemError (422) for an unknown profile or network. */
export async function desiredNetworkView(db: Db, accountId: string, selection: ViewSelection) {
  const { desired, tunnelHealth } = await loadDesiredNetwork(db, accountId);
  return viewOr422(
    desiredView(desired, selection.profile, tunnelHealth, selection.virtualNetwork),
    "#/device_profile",
  );
}

/**
 * The view of what Cloudflare holds now for `selection`, with the account's initial resolved range.
 * @throws ProblemError not-found, upstream-failed (502), validation-failed (unknown profile or network).
 */
export async function observedNetworkView(
  env: Env,
  accountId: string,
  selection: ViewSelection,
  initialResolvedIpv4: string,
) {
  const outcome = await observeAccountNow(createReconcileDeps(env), accountId);
  switch (outcome.status) {
    case "not-found":
      throw new ProblemError("not-found", `Account ${accountId} is not registered.`);
    case "upstream-failed":
      throw new ProblemError("upstream-failed", outcome.message);
    case "observed":
      return viewOr422(
        observedView(
          outcome.observed,
          selection.profile,
          selection.virtualNetwork,
          initialResolvedIpv4,
        ),
        "#/device_profile",
      );
  }
}
