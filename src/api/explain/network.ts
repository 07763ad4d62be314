/**
 * Loading the network views explain and assertions work on: the desired state from D1 (with each
 * tunnel's health as the last run observed it), or Cloudflare observed now.
 */
import type { Db } from "../../db/client";
import { listAllObjects, loadDesiredState } from "../../db/desired-objects.repo";
import { loadActiveGrantSources, loadDesiredWithGrants } from "../../db/grants.repo";
import { listRoutesCovering } from "../../db/route-ranges.repo";
import { DEFAULT_VIRTUAL_NETWORK } from "../../domain/explain/networks";
import type { ViewError } from "../../domain/explain/view";
import {
  DEFAULT_PROFILE,
  desiredView,
  type NetworkView,
  observedView,
} from "../../domain/explain/view";
import type { DesiredState, Kind, ObservedState } from "../../domain/model";
import type { Result } from "../../domain/result";
import { createReconcileDeps } from "../../reconciler/deps";
import { observeAccountNow, type SkippedKinds } from "../../reconciler/observe-now";
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

/** A view with what it was read from: when the shared rules were read, and what was skipped. */
export interface ReadView {
  view: NetworkView;
  /** When the shared rules the view evaluates were read, epoch ms; undefined: never. */
  sharedRulesObservedAtMs: number | undefined;
  /** Kinds the API token may not read, left out of the view ([] for the desired state). */
  skipped: SkippedKinds[];
}

/** The desired view for `selection`. @throws ProblemError (422) for an unknown profile or network. */
export async function desiredNetworkView(
  db: Db,
  accountId: string,
  selection: ViewSelection,
): Promise<ReadView> {
  const { desired, tunnelHealth } = await loadDesiredNetwork(db, accountId);
  const view = viewOr422(
    desiredView(desired, selection.profile, tunnelHealth, selection.virtualNetwork),
    "#/device_profile",
  );
  return { view, sharedRulesObservedAtMs: desired.sharedRulesObservedAtMs, skipped: [] };
}

/**
 * The observed state as explain selects in it: where the token may not read device profiles or
 * virtual networks, the selection stands for itself (the stage is unknown, not a 422), with the
 * split tunnel's assumed default and no routes.
 */
function selectable(observed: ObservedState, unread: ReadonlySet<Kind>, selection: ViewSelection) {
  return {
    observed: unread.has("virtual_network")
      ? {
          ...observed,
          virtualNetworks: [
            {
              cloudflareId: selection.virtualNetwork,
              name: selection.virtualNetwork,
              comment: "",
              isDefault: selection.virtualNetwork === DEFAULT_VIRTUAL_NETWORK,
            },
          ],
        }
      : observed,
    profile: unread.has("device_profile") ? DEFAULT_PROFILE : selection.profile,
  };
}

/**
 * The view of what Cloudflare holds now for `selection`, with the account's initial resolved
 * range; kinds the token may not read are skipped (and recorded on the account).
 * @throws ProblemError not-found, upstream-failed (502), validation-failed (unknown profile or network).
 */
export async function observedNetworkView(
  env: Env,
  accountId: string,
  selection: ViewSelection,
  initialResolvedIpv4: string,
): Promise<ReadView> {
  const outcome = await observeAccountNow(createReconcileDeps(env), accountId, "explain");
  switch (outcome.status) {
    case "not-found":
      throw new ProblemError("not-found", `Account ${accountId} is not registered.`);
    case "upstream-failed":
      throw new ProblemError("upstream-failed", outcome.message);
    case "observed": {
      const unread = new Set(outcome.skipped.flatMap((s) => s.kinds));
      const { observed, profile } = selectable(outcome.observed, unread, selection);
      const view = viewOr422(
        observedView(observed, profile, selection.virtualNetwork, initialResolvedIpv4),
        "#/device_profile",
      );
      return {
        view: { ...view, splitTunnel: { ...view.splitTunnel, profile: selection.profile } },
        sharedRulesObservedAtMs: unread.has("network_policy") ? undefined : outcome.observedAtMs,
        skipped: outcome.skipped,
      };
    }
  }
}
