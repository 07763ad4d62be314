/**
 * Does a grant really open the path? For each destination: a route covers it (longest prefix),
 * the split tunnel sends it through WARP, the proxy carries the protocol, and the policies in
 * evaluation order let the subject through. A pure function of the desired state, so it can be
 * replaced by the full `explain` when that exists.
 */

import { parseKnownCidr } from "../cidr/known";
import { longestPrefixMatch } from "../cidr/lookup";
import { formatAddress } from "../cidr/parse";
import { intersectPrefixes, isSubset } from "../cidr/ranges";
import type {
  NetworkPolicySpec,
  NetworkProtocol,
  PortRange,
  ProxySettingsSpec,
  SplitTunnelProfileSpec,
} from "../model";
import {
  conditionsFromSelectors,
  type EvaluablePolicy,
  evaluatePolicies,
} from "../policies/evaluate";
import { effectiveSplitTunnel } from "../split-tunnels/effective";

/** What the check needs to know about the grant. */
export interface PathCheckGrant {
  subjectEmail: string;
  /** Canonical CIDRs. */
  destinations: string[];
  ports: PortRange[];
  protocols: NetworkProtocol[];
}

/** The parts of the account's desired state the path goes through. */
export interface PathCheckNetwork {
  /** Desired tunnel routes: canonical network and tunnelplane tunnel id. */
  routes: { network: string; tunnelId: string }[];
  /** The default device profile's split tunnel, or null when tunnelplane does not manage it. */
  splitTunnel: SplitTunnelProfileSpec | null;
  /** The account's team domain, or null: the list is computed as the planner computes it. */
  teamDomain: string | null;
  /** Proxy toggles, or null when tunnelplane does not manage them. */
  proxySettings: ProxySettingsSpec | null;
  /** Every network policy Gateway will evaluate, the grant's own allow policy included. */
  policies: { id: string; spec: NetworkPolicySpec }[];
  /**
   * Read-only rules shared from a parent account (each with `sharedFrom`), evaluated before
   * every policy of `policies`. Absent: none.
   */
  sharedRules?: EvaluablePolicy[];
}

/**
 * Why the path is not open.
 * - `no-route`: no route covers the whole destination.
 * - `excluded-from-warp`: Exclude-mode entries send `addresses` (part of it) around WARP.
 * - `not-included-in-warp`: Include mode, and the list does not cover the whole destination.
 * - `proxy-off`: the Gateway proxy for `protocol` is off, so such traffic is never proxied.
 * - `blocked-by-policy`: the first matching policy, `policy`, blocks the subject.
 */
export type PathProblem =
  | { code: "no-route"; destination: string }
  | { code: "excluded-from-warp"; destination: string; addresses: string[] }
  | { code: "not-included-in-warp"; destination: string }
  | { code: "proxy-off"; destination: string; protocol: NetworkProtocol }
  | {
      code: "blocked-by-policy";
      destination: string;
      /** The deciding policy; `sharedFrom` names the parent account of a shared rule. */
      policy: { id: string; name: string; sharedFrom?: string };
    };

/** How one destination is reached. */
export interface DestinationPath {
  destination: string;
  /** The route that carries it (longest prefix), or null. */
  route: { network: string; tunnelId: string } | null;
  /** Whether the split tunnel sends the whole destination through WARP (true when unmanaged). */
  throughWarp: boolean;
  /** The probe evaluated against the policies: the destination's first address and port. */
  probe: { ip: string; port: number | null; protocol: NetworkProtocol };
  /** Gateway's decision for the probe and the policy that decided (null: no policy matched). */
  decision: "allow" | "block";
  decidedBy: { id: string; name: string; precedence: number; sharedFrom?: string } | null;
}

/** The result: `ok` when there is no problem. */
export interface GrantPathCheck {
  ok: boolean;
  problems: PathProblem[];
  destinations: DestinationPath[];
}

function splitTunnelProblem(
  destination: string,
  splitTunnel: SplitTunnelProfileSpec,
  routedNetworks: string[],
  teamDomain: string | null,
): PathProblem | null {
  const addresses = effectiveSplitTunnel(splitTunnel, routedNetworks, {
    teamDomain,
  }).entries.flatMap((e) => ("address" in e ? [e.address] : []));
  if (splitTunnel.mode === "exclude") {
    const excluded = intersectPrefixes([destination], addresses);
    return excluded.length === 0
      ? null
      : { code: "excluded-from-warp", destination, addresses: excluded };
  }
  return isSubset([parseKnownCidr(destination)], addresses.map(parseKnownCidr))
    ? null
    : { code: "not-included-in-warp", destination };
}

/**
 * Checks every destination of the grant. Protocols checked against the proxy are the grant's,
 * or `tcp` alone when it names none (any protocol works once TCP does). The policy probe is the
 * destination's first address, the first port of the grant (none when it names none) and its
 * first protocol (`tcp` when none): one connection the grant promises, evaluated the way
 * Gateway does (shared rules first, then ascending precedence, first match decides, no match
 * allows).
 * @see https://developers.cloudflare.com/cloudflare-one/policies/gateway/order-of-enforcement/
 */
export function checkGrantPath(grant: PathCheckGrant, network: PathCheckNetwork): GrantPathCheck {
  const routedNetworks = network.routes.map((r) => r.network);
  const evaluable: EvaluablePolicy[] = [
    ...(network.sharedRules ?? []),
    ...network.policies.map((p) => ({
      id: p.id,
      name: p.spec.name,
      action: p.spec.action,
      precedence: p.spec.precedence,
      enabled: p.spec.enabled,
      ...conditionsFromSelectors(p.spec),
    })),
  ];
  const protocols: NetworkProtocol[] = grant.protocols.length > 0 ? grant.protocols : ["tcp"];
  const problems: PathProblem[] = [];
  const destinations = grant.destinations.map((destination): DestinationPath => {
    const match = longestPrefixMatch(destination, network.routes);
    const route = match === undefined ? null : { network: match.network, tunnelId: match.tunnelId };
    if (route === null) {
      problems.push({ code: "no-route", destination });
    }
    const split =
      network.splitTunnel === null
        ? null
        : splitTunnelProblem(destination, network.splitTunnel, routedNetworks, network.teamDomain);
    if (split !== null) {
      problems.push(split);
    }
    for (const protocol of protocols) {
      if (network.proxySettings !== null && !network.proxySettings[protocol]) {
        problems.push({ code: "proxy-off", destination, protocol });
      }
    }
    const prefix = parseKnownCidr(destination);
    const probe = {
      ip: formatAddress(prefix.family, prefix.address),
      port: grant.ports[0]?.from ?? null,
      protocol: protocols[0] ?? "tcp",
    };
    const evaluation = evaluatePolicies(evaluable, {
      email: grant.subjectEmail,
      destinationIp: probe.ip,
      ...(probe.port === null ? {} : { port: probe.port }),
      protocol: probe.protocol,
    });
    const by = evaluation.decidedBy;
    const shared = by?.sharedFrom === undefined ? {} : { sharedFrom: by.sharedFrom };
    const decidedBy =
      by === null ? null : { id: by.id, name: by.name, precedence: by.precedence, ...shared };
    if (evaluation.decision === "block" && decidedBy !== null) {
      problems.push({
        code: "blocked-by-policy",
        destination,
        policy: { id: decidedBy.id, name: decidedBy.name, ...shared },
      });
    }
    return {
      destination,
      route,
      throughWarp: split === null,
      probe,
      decision: evaluation.decision,
      decidedBy,
    };
  });
  return { ok: problems.length === 0, problems, destinations };
}

/** One sentence about a problem, for the grant's flag. */
export function describePathProblem(problem: PathProblem): string {
  switch (problem.code) {
    case "no-route":
      return `no route covers ${problem.destination}`;
    case "excluded-from-warp":
      return `the split tunnel excludes ${problem.addresses.join(", ")} from WARP`;
    case "not-included-in-warp":
      return `the split tunnel Include list does not cover ${problem.destination}`;
    case "proxy-off":
      return `the Gateway ${problem.protocol.toUpperCase()} proxy is off`;
    case "blocked-by-policy":
      return problem.policy.sharedFrom === undefined
        ? `policy "${problem.policy.name}" blocks ${problem.destination} first`
        : `rule "${problem.policy.name}" shared from account ${problem.policy.sharedFrom} blocks ${problem.destination} before every rule of this account`;
  }
}
