/**
 * The network as one user's device sees it: the split tunnel of its device profile, the routes
 * of the default virtual network with their tunnels, the proxy toggles and the network policies
 * ready for evaluation. Built either from the desired state (what tunnelplane will write) or from
 * an observation of Cloudflare (what is there now, hand-written policies parsed).
 */

import { DEFAULT_INITIAL_RESOLVED_IPV4 } from "../cidr/reserved";
import type {
  DesiredObject,
  DesiredState,
  ObservedNetworkPolicy,
  ObservedState,
  ProxySettingsSpec,
  SplitTunnelEntry,
  SplitTunnelMode,
} from "../model";
import { derivedNetworkPolicies } from "../plan/derived-policies";
import { readMarker } from "../plan/ownership";
import { conditionsFromSelectors, type EvaluablePolicy } from "../policies/evaluate";
import { parseExpression } from "../policies/parse";
import { err, ok, type Result } from "../result";
import { CLOUDFLARE_DEFAULT_FALLBACK_SUFFIXES } from "../routes/local-fallback";
import { WARP_DEFAULT_EXCLUDES } from "../split-tunnels/defaults";
import { effectiveSplitTunnel, splitTunnelSettingsOf } from "../split-tunnels/effective";
import { routedNetworksFor } from "../split-tunnels/profile-routes";
import {
  DEFAULT_VIRTUAL_NETWORK,
  desiredHostnameRoutes,
  observedHostnameRoutes,
  type SelectedNetwork,
  selectDesiredNetwork,
  selectObservedNetwork,
  type UnknownVirtualNetworkError,
  type ViewHostnameRoute,
} from "./networks";

/** The device profile whose split tunnel applies: `default`, or a custom profile's id. */
export const DEFAULT_PROFILE = "default";

/** The split tunnel list a device applies. */
export interface ViewSplitTunnel {
  /** `default` or the tunnelplane id of a custom device profile. */
  profile: string;
  mode: SplitTunnelMode;
  /** The effective entries, as Cloudflare has (or will have) them. */
  entries: SplitTunnelEntry[];
  /** True when nobody manages the list and Cloudflare's fresh-account default is assumed. */
  assumedDefault: boolean;
}

/** The Local Domain Fallback list of the device's profile. */
export interface ViewFallback {
  /** Suffixes the device resolves with its own DNS (lower case). */
  suffixes: readonly string[];
  /** True when the list was never observed and Cloudflare's default list is assumed. */
  assumedDefault: boolean;
}

/** A tunnel as far as reaching a route is concerned. */
export interface ViewTunnel {
  /** tunnelplane id, or `cloudflare:<id>` for a tunnel tunnelplane does not own. */
  id: string;
  name: string;
  /** Cloudflare's health as last observed (`healthy`, `degraded`, `down`, `inactive`), or `unknown`. */
  health: string;
}

/** A route of the default virtual network. */
export interface ViewRoute {
  /** tunnelplane id, or `cloudflare:<id>` for an unmanaged route. */
  id: string;
  /** Canonical CIDR. */
  network: string;
  tunnel: ViewTunnel;
}

/** A Gateway rule the evaluator cannot use, and why. */
export interface UnevaluablePolicy {
  id: string;
  name: string;
  precedence: number;
  reason: string;
}

/** Everything explain needs about one account, for one device profile. */
export interface NetworkView {
  splitTunnel: ViewSplitTunnel;
  /** The virtual network the device has selected (the account's default unless asked). */
  virtualNetwork: SelectedNetwork;
  /** The routes of `virtualNetwork`. */
  routes: ViewRoute[];
  /** Every hostname route (they belong to no virtual network). */
  hostnameRoutes: ViewHostnameRoute[];
  /** The account's IPv4 initial resolved range, which answers routed hostnames (canonical CIDR). */
  initialResolvedIpv4: string;
  /** The profile's Local Domain Fallback, which keeps names under its suffixes off Gateway. */
  localFallback: ViewFallback;
  /** The proxy toggles, or null when tunnelplane does not manage them (Cloudflare's default: off). */
  proxy: ProxySettingsSpec | null;
  /** Network policies, enabled or not, in any order (the evaluator sorts by precedence). */
  policies: EvaluablePolicy[];
  /** Observed rules that are not allow/block l4 rules or do not parse; never evaluated. */
  unevaluable: UnevaluablePolicy[];
}

/** Why a view cannot be built: the device profile named does not exist. */
export interface UnknownProfileError {
  code: "unknown-profile";
  profile: string;
}

/** Why a view cannot be built: no such device profile, or no such virtual network. */
export type ViewError = UnknownProfileError | UnknownVirtualNetworkError;

/** The profile's list when known, else Cloudflare's default list (assumed). */
function fallbackOf(suffixes: readonly string[] | undefined): ViewFallback {
  return suffixes === undefined
    ? { suffixes: CLOUDFLARE_DEFAULT_FALLBACK_SUFFIXES, assumedDefault: true }
    : { suffixes, assumedDefault: false };
}

function live<K extends DesiredObject["kind"]>(desired: DesiredState, kind: K): DesiredObject<K>[] {
  return desired.objects.filter(
    (o): o is DesiredObject<K> => o.kind === kind && o.deletedAtMs === null,
  );
}

/** Cloudflare's fresh-account list: Exclude mode with WARP's default entries. */
function assumedSplitTunnel(profile: string): ViewSplitTunnel {
  return {
    profile,
    mode: "exclude",
    entries: WARP_DEFAULT_EXCLUDES.map((e) => ({ ...e })),
    assumedDefault: true,
  };
}

/**
 * The network of the desired state: live routes of the default virtual network (a route with no
 * virtual network, or the desired default one), the effective split tunnel of `profile` computed
 * from the routes and the team domain exactly as the planner does, the proxy settings and every
 * network policy that will exist, derived ones (private apps, grants) included, after the rules
 * shared from a parent account as the last run observed them. A missing default
 * profile is Cloudflare's default Exclude list. The profile's Local Domain Fallback is the one
 * the last run observed (tunnelplane does not manage it), Cloudflare's default before any run. `tunnelHealth` maps tunnelplane tunnel ids to the health
 * the last run observed.
 *
 * `virtualNetwork` is the device's selection (`default`, or a virtual network id): only its
 * routes are reachable.
 *
 * Errors: `unknown-profile` when `profile` is neither `default` nor a live device profile id;
 * `unknown-virtual-network` when `virtualNetwork` names no live virtual network.
 */
export function desiredView(
  desired: DesiredState,
  profile: string,
  tunnelHealth: ReadonlyMap<string, string>,
  virtualNetwork: string = DEFAULT_VIRTUAL_NETWORK,
): Result<NetworkView, ViewError> {
  const defaultVnet = live(desired, "virtual_network").find((v) => v.spec.isDefault)?.id ?? null;
  const selected = selectDesiredNetwork(desired, virtualNetwork);
  if (!selected.ok) {
    return selected;
  }
  const allRoutes = live(desired, "tunnel_route");
  const account = splitTunnelSettingsOf(desired);
  const tunnels = new Map(live(desired, "tunnel").map((t) => [t.id, t.spec.name]));
  const routes = allRoutes
    .filter((r) => selected.value.holds(r.spec.virtualNetworkId))
    .map((r) => ({
      id: r.id,
      network: r.spec.network,
      tunnel: {
        id: r.spec.tunnelId,
        name: tunnels.get(r.spec.tunnelId) ?? r.spec.tunnelId,
        health: tunnelHealth.get(r.spec.tunnelId) ?? "unknown",
      },
    }));
  let splitTunnel: ViewSplitTunnel;
  if (profile === DEFAULT_PROFILE) {
    const spec = live(desired, "split_tunnel").find((s) => s.id === DEFAULT_PROFILE)?.spec;
    splitTunnel =
      spec === undefined
        ? assumedSplitTunnel(profile)
        : {
            profile,
            mode: spec.mode,
            entries: effectiveSplitTunnel(
              spec,
              allRoutes.map((r) => r.spec.network),
              account,
            ).entries.map(stripSource),
            assumedDefault: false,
          };
  } else {
    const custom = live(desired, "device_profile").find((p) => p.id === profile);
    if (custom === undefined) {
      return err({ code: "unknown-profile", profile });
    }
    const networks = routedNetworksFor(
      custom.spec.virtualNetworkIds,
      allRoutes.map((r) => r.spec),
      defaultVnet,
    );
    splitTunnel = {
      profile,
      mode: custom.spec.splitTunnel.mode,
      entries: effectiveSplitTunnel(custom.spec.splitTunnel, networks, account).entries.map(
        stripSource,
      ),
      assumedDefault: false,
    };
  }
  const shared = evaluableRules(desired.sharedRules ?? []);
  return ok({
    splitTunnel,
    virtualNetwork: selected.value.network,
    routes,
    hostnameRoutes: desiredHostnameRoutes(desired, tunnelHealth),
    initialResolvedIpv4: desired.initialResolvedIpv4 ?? DEFAULT_INITIAL_RESOLVED_IPV4,
    localFallback: fallbackOf(desired.fallbackDomains?.[profile]),
    proxy: live(desired, "proxy_settings")[0]?.spec ?? null,
    policies: [...shared.policies, ...desiredPolicies(desired, []).map(toEvaluable)],
    unevaluable: shared.unevaluable,
  });
}

/**
 * Gateway l4 rules as the evaluator takes them: allow and block rules with their three
 * expressions parsed (hand-written ones included), shared rules marked with their parent
 * account; rules of another action or that do not parse are unevaluable. A rule tunnelplane owns
 * carries its id, others `cloudflare:<id>`.
 */
export function evaluableRules(rules: readonly ObservedNetworkPolicy[]): {
  policies: EvaluablePolicy[];
  unevaluable: UnevaluablePolicy[];
} {
  const policies: EvaluablePolicy[] = [];
  const unevaluable: UnevaluablePolicy[] = [];
  for (const rule of rules) {
    if (!rule.filters.includes("l4")) {
      continue;
    }
    const id = readMarker(rule.description).ownerId ?? `cloudflare:${rule.cloudflareId}`;
    const head = { id, name: rule.name, precedence: rule.precedence };
    if (rule.action !== "allow" && rule.action !== "block") {
      unevaluable.push({ ...head, reason: `action ${rule.action} is not evaluated` });
      continue;
    }
    const traffic = parseExpression(rule.traffic);
    const identity = parseExpression(rule.identity);
    const posture = parseExpression(rule.devicePosture);
    const failed = [traffic, identity, posture].find((r) => !r.ok);
    if (failed !== undefined && !failed.ok) {
      unevaluable.push({
        ...head,
        reason: `${failed.error.message} at offset ${failed.error.offset}`,
      });
      continue;
    }
    policies.push({
      ...head,
      // A shared rule's marker names an object of the parent account, never one of ours.
      ...(rule.readOnly === true
        ? { id: `cloudflare:${rule.cloudflareId}`, sharedFrom: rule.sourceAccount ?? "" }
        : {}),
      action: rule.action,
      enabled: rule.enabled,
      traffic: traffic.ok ? traffic.value : null,
      identity: identity.ok ? identity.value : null,
      devicePosture: posture.ok ? posture.value : null,
    });
  }
  return { policies, unevaluable };
}

/**
 * Every network policy the desired state makes: stored ones and derived ones (private apps,
 * grants placed among `observed` rules as the planner places them).
 */
export function desiredPolicies(
  desired: DesiredState,
  observed: readonly ObservedNetworkPolicy[],
): DesiredObject<"network_policy">[] {
  return [...live(desired, "network_policy"), ...derivedNetworkPolicies(desired, observed).objects];
}

function stripSource(entry: SplitTunnelEntry): SplitTunnelEntry {
  return "address" in entry
    ? { address: entry.address, description: entry.description }
    : { host: entry.host, description: entry.description };
}

/** A desired policy as the evaluator sees it: its rendered expressions, parsed. */
export function toEvaluable(object: DesiredObject<"network_policy">): EvaluablePolicy {
  const { name, action, precedence, enabled } = object.spec;
  return {
    id: object.id,
    name,
    action,
    precedence,
    enabled,
    ...conditionsFromSelectors(object.spec),
  };
}

/**
 * The network Cloudflare has now: the observed split tunnel of `profile` (the default profile,
 * or the custom profile whose description carries `profile`'s marker), the live routes of the
 * observed default virtual network with their tunnels' health, the proxy toggles, and every
 * Gateway l4 rule whose action is allow or block, its three expressions parsed (hand-written
 * ones included). Rules of another action or that do not parse are listed as unevaluable.
 * Objects tunnelplane owns carry its id; others `cloudflare:<id>`.
 *
 * `virtualNetwork` selects the routes as in `desiredView`; the initial resolved range is
 * Cloudflare's when the observation read it, else `initialResolvedIpv4` (the stored one); the
 * profile's Local Domain Fallback is the observed one (Cloudflare's default when not read).
 *
 * Errors: `unknown-profile` when no observed custom profile carries `profile`'s marker;
 * `unknown-virtual-network` when no observed virtual network is `virtualNetwork`.
 */
export function observedView(
  observed: ObservedState,
  profile: string,
  virtualNetwork: string = DEFAULT_VIRTUAL_NETWORK,
  initialResolvedIpv4: string = DEFAULT_INITIAL_RESOLVED_IPV4,
): Result<NetworkView, ViewError> {
  const selected = selectObservedNetwork(observed, virtualNetwork);
  if (!selected.ok) {
    return selected;
  }
  let splitTunnel: ViewSplitTunnel;
  let fallback: readonly string[] | undefined;
  if (profile === DEFAULT_PROFILE) {
    const list = observed.splitTunnels.find((s) => s.profileId === DEFAULT_PROFILE);
    fallback = list?.fallbackDomains;
    splitTunnel =
      list === undefined
        ? assumedSplitTunnel(profile)
        : { profile, mode: list.mode, entries: list.entries, assumedDefault: false };
  } else {
    const custom = (observed.deviceProfiles ?? []).find(
      (p) => readMarker(p.description).ownerId === profile,
    );
    if (custom === undefined) {
      return err({ code: "unknown-profile", profile });
    }
    fallback = custom.fallbackDomains;
    splitTunnel = { profile, mode: custom.mode, entries: custom.entries, assumedDefault: false };
  }
  const tunnels = new Map(observed.tunnels.map((t) => [t.cloudflareId, t]));
  const routes = observed.tunnelRoutes
    .filter((r) => r.virtualNetworkCloudflareId === selected.value.cloudflareId)
    .map((r) => {
      const tunnel = tunnels.get(r.tunnelCloudflareId);
      return {
        id: readMarker(r.comment).ownerId ?? `cloudflare:${r.cloudflareId}`,
        network: r.network,
        tunnel: {
          id: `cloudflare:${r.tunnelCloudflareId}`,
          name: tunnel?.name ?? r.tunnelCloudflareId,
          health: tunnel?.status ?? "unknown",
        },
      };
    });
  const { policies, unevaluable } = evaluableRules(observed.networkPolicies);
  return ok({
    splitTunnel,
    virtualNetwork: selected.value,
    routes,
    hostnameRoutes: observedHostnameRoutes(observed),
    initialResolvedIpv4: observed.initialResolvedIpv4 ?? initialResolvedIpv4,
    localFallback: fallbackOf(fallback),
    proxy: observed.proxySettings,
    policies,
    unevaluable,
  });
}
