/**
 * The registry of managed kinds: one adapter per kind. Observation asks every adapter at once and
 * merges their parts; an action is applied by the adapter of its kind, looked up by a mapped type
 * so each adapter receives exactly its own kind's action.
 */
import type Cloudflare from "cloudflare";
import { type DesiredState, EMPTY_OBSERVED, type ObservedState } from "../domain/model";
import type { Action } from "../domain/plan/actions";
import type { KindAdapter, ManagedKind, ObservedPart } from "./adapter";
import type { ApplyContext } from "./apply-context";
import { deviceProfileAdapter } from "./device-profiles.adapter";
import { enrollmentAdapter } from "./enrollment.adapter";
import { MissingPermissionError, toUpstreamError } from "./errors";
import { hostnameRouteAdapter } from "./hostname-routes.adapter";
import { networkPolicyAdapter } from "./network-policies.adapter";
import { proxySettingsAdapter } from "./proxy-settings.adapter";
import { splitTunnelAdapter } from "./split-tunnels.adapter";
import { tunnelRouteAdapter } from "./tunnel-routes.adapter";
import { tunnelAdapter } from "./tunnels.adapter";
import { virtualNetworkAdapter } from "./virtual-networks.adapter";

/** Every managed kind's adapter, keyed by kind. */
export const ADAPTERS: { [K in ManagedKind]: KindAdapter<K> } = {
  virtual_network: virtualNetworkAdapter,
  tunnel: tunnelAdapter,
  tunnel_route: tunnelRouteAdapter,
  hostname_route: hostnameRouteAdapter,
  split_tunnel: splitTunnelAdapter,
  device_profile: deviceProfileAdapter,
  proxy_settings: proxySettingsAdapter,
  network_policy: networkPolicyAdapter,
  enrollment_rule: enrollmentAdapter,
};

const MANAGED_KINDS = new Set<string>(Object.keys(ADAPTERS));

/** True when the action's kind has a Cloudflare object of its own (every planned action does). */
export function isManagedAction(action: Action): action is Action<ManagedKind> {
  return MANAGED_KINDS.has(action.kind);
}

/** An observation that leaves out what the account's token may not read. */
export interface ReadableObservation {
  /** The observed state; the parts of refused kinds are empty. */
  observed: ObservedState;
  /** The refusals (403 / 10000), one per adapter refused; [] when the token read everything. */
  refused: MissingPermissionError[];
}

/**
 * Reads the account's state through every adapter at once, never one GET per object: one list
 * call per kind and page, the proxy toggles' two singletons, Access only for accounts with
 * enrollment rules (see each adapter for its count). `wide` also reads the route kinds the
 * desired state has none of (explain and import on what Cloudflare holds now). An adapter whose
 * list Cloudflare refuses for a missing token permission leaves its part empty instead of failing
 * the whole observation, so the kinds the token may read are still planned, explained and
 * reconciled. Any other failure fails the observation.
 * @throws whatever the SDK throws but a missing permission; classify with toUpstreamError.
 */
export async function observeReadable(
  client: Cloudflare,
  accountId: string,
  desired: DesiredState,
  wide = false,
): Promise<ReadableObservation> {
  const outcomes = await Promise.all(
    Object.values(ADAPTERS).map((adapter) =>
      adapter.observe(client, accountId, desired, wide).catch((error: unknown) => {
        const failure = toUpstreamError(error);
        if (failure instanceof MissingPermissionError) {
          return failure;
        }
        throw error;
      }),
    ),
  );
  const parts = outcomes.filter((o): o is ObservedPart => !(o instanceof MissingPermissionError));
  const observed: ObservedState = Object.assign({ ...EMPTY_OBSERVED }, ...parts);
  // In adapter order, so the first refusal of an area is always the same call.
  const refused = outcomes.filter((o) => o instanceof MissingPermissionError);
  return { observed, refused };
}

/**
 * Applies `action` through its kind's adapter.
 * @returns the Cloudflare id of the object created, changed or deleted.
 * @throws whatever the SDK throws; callers classify it with toUpstreamError.
 */
export function applyAction<K extends ManagedKind>(
  ctx: ApplyContext,
  action: Action<K>,
): Promise<string> {
  const adapter: KindAdapter<K> = ADAPTERS[action.kind];
  switch (action.op) {
    case "create":
      return adapter.create(ctx, action);
    case "update":
      return adapter.update(ctx, action);
    case "delete":
      return adapter.delete(ctx, action);
  }
}
