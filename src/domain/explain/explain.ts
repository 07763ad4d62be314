/**
 * "Can this user reach this address, and if not, why?" Walks a connection through every stage
 * that can stop it, in the order a WARP device meets them: the split tunnel, the route and its
 * tunnel, the Gateway proxy for the protocol, and the network policies. Every stage is reported;
 * the verdict is the first stage that stops the connection.
 */

import { parseKnownCidr } from "../cidr/known";
import { prefixContains } from "../cidr/lookup";
import { DEFAULT_INITIAL_RESOLVED_IPV4 } from "../cidr/reserved";
import type { NetworkProtocol, SplitTunnelEntry, SplitTunnelMode } from "../model";
import { evaluatePolicies, type PolicyEvaluation } from "../policies/evaluate";
import { fallbackSuffixOf } from "../routes/local-fallback";
import {
  DEFAULT_VIRTUAL_NETWORK,
  matchHostnameRoute,
  type SelectedNetwork,
  type ViewHostnameRoute,
} from "./networks";
import type { NetworkView, UnevaluablePolicy, ViewRoute } from "./view";

/** The network address of a canonical CIDR (`172.64.128.0/20` -> `172.64.128.0`). */
function firstAddress(cidr: string): string {
  return cidr.slice(0, cidr.indexOf("/"));
}

/** The final answer for a connection. */
export type Verdict =
  | "resolved_locally"
  | "allowed"
  | "blocked_by_policy"
  | "not_routed"
  | "excluded_from_warp"
  | "proxy_off";

/** One connection attempt to explain. */
export interface ExplainRequest {
  /** The user's email, lower case. */
  email: string;
  /** The user's identity provider group names. */
  groups: readonly string[];
  /** Ids of the device posture checks the device passes. */
  passedPostureChecks: readonly string[];
  /**
   * Destination IPv4 or IPv6 address (no prefix length). With `destinationHost` it is ignored:
   * the device connects to an address of the account's initial resolved range.
   */
  destinationIp: string;
  /** A private hostname (lower case) to reach instead of an address; absent or null: none. */
  destinationHost?: string | null;
  /** Destination port 1..65535, or null when not given (ICMP, or any port). */
  port: number | null;
  /** Layer 4 protocol; null means `tcp`. */
  protocol: NetworkProtocol | null;
}

/** Whether the split tunnel sends the destination through WARP, and which entry decides. */
export interface SplitTunnelStep {
  profile: string;
  mode: SplitTunnelMode;
  throughWarp: boolean;
  /** The most specific address entry containing the destination, or null when none does. */
  entry: SplitTunnelEntry | null;
  /** True when the list is Cloudflare's default because nobody manages it. */
  assumedDefault: boolean;
}

/**
 * Which route serves the destination: for an address, the longest prefix in the selected virtual
 * network; for a hostname, the hostname route (`hostname` is then present and `route` null).
 */
export interface RouteStep {
  route: ViewRoute | null;
  hostname?: { route: ViewHostnameRoute | null; resolvedRange: string };
}

/**
 * For a hostname: whether the profile's Local Domain Fallback sends the name to the device's own
 * DNS. `suffix` is the entry that does (the longest), or null when none does.
 */
export interface LocalFallbackStep {
  profile: string;
  suffix: string | null;
  /** True when the list was never observed and Cloudflare's default list is assumed. */
  assumedDefault: boolean;
}

/** Whether Gateway proxies the protocol. */
export interface ProxyStep {
  protocol: NetworkProtocol;
  enabled: boolean;
  /** False when tunnelplane does not manage the proxy settings (Cloudflare's default, off). */
  managed: boolean;
}

/** The network policy evaluation, and the rules that could not be evaluated. */
export interface PolicyStep extends PolicyEvaluation {
  unevaluable: UnevaluablePolicy[];
}

/** The whole explanation. */
export interface Explanation {
  verdict: Verdict;
  /** The virtual network the device has selected. */
  virtualNetwork: SelectedNetwork;
  /** One sentence saying what decided the verdict. */
  summary: string;
  /** For a hostname only (null for an address). */
  localFallback: LocalFallbackStep | null;
  splitTunnel: SplitTunnelStep;
  route: RouteStep;
  proxy: ProxyStep;
  policy: PolicyStep;
}

function mostSpecificEntry(entries: readonly SplitTunnelEntry[], address: string) {
  const target = parseKnownCidr(address);
  let best: SplitTunnelEntry | null = null;
  let bestLength = -1;
  for (const entry of entries) {
    if (!("address" in entry)) {
      continue;
    }
    const network = parseKnownCidr(entry.address);
    if (network.prefixLength > bestLength && prefixContains(network, target)) {
      best = entry;
      bestLength = network.prefixLength;
    }
  }
  return best;
}

function mostSpecificRoute(routes: readonly ViewRoute[], address: string): ViewRoute | null {
  const target = parseKnownCidr(address);
  let best: ViewRoute | null = null;
  let bestLength = -1;
  for (const route of routes) {
    const network = parseKnownCidr(route.network);
    if (network.prefixLength > bestLength && prefixContains(network, target)) {
      best = route;
      bestLength = network.prefixLength;
    }
  }
  return best;
}

function entryText(entry: SplitTunnelEntry): string {
  return "address" in entry ? entry.address : entry.host;
}

function networkText(network: SelectedNetwork): string {
  return network.id === DEFAULT_VIRTUAL_NETWORK
    ? "the default virtual network"
    : `virtual network ${network.name}`;
}

function summarize(explanation: Omit<Explanation, "summary">, destination: string): string {
  const { splitTunnel, route, proxy, policy } = explanation;
  const named = route.hostname;
  switch (explanation.verdict) {
    case "resolved_locally": {
      const fallback = explanation.localFallback;
      const assumed = fallback?.assumedDefault === true ? " (Cloudflare's default list)" : "";
      return `${destination} is under ${fallback?.suffix}, which the Local Domain Fallback of the ${fallback?.profile} profile lists${assumed}: the device resolves it with its own DNS, so the query never reaches Gateway or a hostname route`;
    }
    case "excluded_from_warp":
      return splitTunnel.entry === null
        ? `${destination} is in no Include entry of the ${splitTunnel.profile} profile, so it does not go through WARP`
        : `the Exclude entry ${entryText(splitTunnel.entry)} of the ${splitTunnel.profile} profile sends ${destination} around WARP`;
    case "not_routed":
      return named === undefined
        ? `no route in ${networkText(explanation.virtualNetwork)} contains ${destination}`
        : `no hostname route serves ${destination}`;
    case "proxy_off":
      return `the Gateway ${proxy.protocol.toUpperCase()} proxy is off${named === undefined ? "" : " (hostname routes need TCP and UDP, which carries the DNS query)"}${proxy.managed ? "" : " (not managed by tunnelplane; Cloudflare's default)"}`;
    case "blocked_by_policy":
    case "allowed": {
      const via =
        named?.route === undefined || named.route === null
          ? `route ${route.route?.network} through tunnel ${route.route?.tunnel.name}`
          : `hostname route ${named.route.hostname} through tunnel ${named.route.tunnel.name}`;
      const by = policy.decidedBy;
      return by === null
        ? `allowed: no network policy matches (Gateway's default is allow), ${via}`
        : by.sharedFrom !== undefined
          ? `${by.action === "allow" ? "allowed" : "blocked"} by rule "${by.name}" shared from account ${by.sharedFrom} (evaluated before every rule of this account), ${via}`
          : `${by.action === "allow" ? "allowed" : "blocked"} by policy "${by.name}" (precedence ${by.precedence}), ${via}`;
    }
  }
}

/**
 * Explains one connection over a network view. Stages, in order: for a hostname, the profile's
 * Local Domain Fallback (a name under one of its suffixes is resolved by the device's own DNS
 * and never reaches Gateway, verdict `resolved_locally`); the split tunnel (Exclude
 * mode: through WARP unless an address entry contains the destination; Include mode: only when
 * one does; host entries never match an IP), the route (the most specific route containing the
 * destination; tunnel health is reported, not judged), the proxy (TCP/UDP/ICMP toggle for the
 * protocol, `tcp` when none is given), then the policies (ascending precedence, first match,
 * each earlier policy's reason for not matching). The verdict is the first stage that stops the
 * connection: `resolved_locally`, `excluded_from_warp`, `not_routed`, `proxy_off`, `blocked_by_policy`, else
 * `allowed`. Every stage is computed whatever the verdict.
 *
 * `destinationIp` must be a valid address (the API validates it); else `RangeError`.
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/order-of-enforcement/
 */
export function explain(view: NetworkView, request: ExplainRequest): Explanation {
  const { splitTunnel: list } = view;
  const host = request.destinationHost ?? null;
  // A routed hostname is answered with an address of the initial resolved range.
  const address = host === null ? request.destinationIp : firstAddress(view.initialResolvedIpv4);
  // WARP routes the default initial resolved range itself, whatever the list says.
  const managedByWarp = host !== null && view.initialResolvedIpv4 === DEFAULT_INITIAL_RESOLVED_IPV4;
  const entry = managedByWarp ? null : mostSpecificEntry(list.entries, address);
  const splitTunnel: SplitTunnelStep = {
    profile: list.profile,
    mode: list.mode,
    throughWarp: managedByWarp || (list.mode === "exclude" ? entry === null : entry !== null),
    entry,
    assumedDefault: list.assumedDefault,
  };
  const route: RouteStep =
    host === null
      ? { route: mostSpecificRoute(view.routes, address) }
      : {
          route: null,
          hostname: {
            route: matchHostnameRoute(view.hostnameRoutes, host),
            resolvedRange: view.initialResolvedIpv4,
          },
        };
  const protocol = request.protocol ?? "tcp";
  // The DNS query for a hostname goes over UDP before the connection does.
  const dnsBlocked = host !== null && view.proxy?.udp !== true;
  const proxy: ProxyStep = {
    protocol: dnsBlocked ? "udp" : protocol,
    enabled: !dnsBlocked && (view.proxy?.[protocol] ?? false),
    managed: view.proxy !== null,
  };
  const evaluation = evaluatePolicies(view.policies, {
    email: request.email,
    groups: request.groups,
    passedPostureChecks: request.passedPostureChecks,
    destinationIp: address,
    protocol,
    ...(request.port === null ? {} : { port: request.port }),
    ...(view.virtualNetwork.cloudflareId === null
      ? {}
      : { virtualNetworkId: view.virtualNetwork.cloudflareId }),
  });
  const policy: PolicyStep = { ...evaluation, unevaluable: view.unevaluable };
  const localFallback: LocalFallbackStep | null =
    host === null
      ? null
      : {
          profile: list.profile,
          suffix: fallbackSuffixOf(host, view.localFallback.suffixes),
          assumedDefault: view.localFallback.assumedDefault,
        };
  const verdict: Verdict =
    localFallback?.suffix != null
      ? "resolved_locally"
      : !splitTunnel.throughWarp
        ? "excluded_from_warp"
        : route.route === null && (route.hostname?.route ?? null) === null
          ? "not_routed"
          : !proxy.enabled
            ? "proxy_off"
            : evaluation.decision === "block"
              ? "blocked_by_policy"
              : "allowed";
  const body = {
    verdict,
    virtualNetwork: view.virtualNetwork,
    localFallback,
    splitTunnel,
    route,
    proxy,
    policy,
  };
  return { ...body, summary: summarize(body, host ?? address) };
}
