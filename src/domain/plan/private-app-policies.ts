/**
 * Private-network applications as Gateway network policies. Each group of an app's destinations
 * that share ports and protocol becomes a pair placed together: an allow for the app's
 * identities, then a block for everyone else, at consecutive precedences starting at the app's
 * own. The pair is re-derived from the app on every plan, so it follows every change of the app.
 */
import type {
  DesiredObject,
  NetworkPolicySpec,
  PortRange,
  PrivateAppDestination,
  PrivateAppSpec,
} from "../model";
import { compareCidrs } from "../policies/selectors";

/** The destinations of one app that share ports and protocol: one allow/block pair. */
export interface DestinationGroup {
  /** Canonical CIDRs in numeric order. */
  destinations: string[];
  ports: PortRange[];
  protocol: "tcp" | "udp" | null;
}

/** Longest app name, so that a derived policy name stays within Gateway's 200 characters. */
export const MAX_PRIVATE_APP_NAME_LENGTH = 150;

const DERIVED_KEY = /^([0-9a-f-]{36})-(allow|block)-(\d+)$/;

function portsKey(ports: readonly PortRange[]): string {
  return [...ports]
    .sort((a, b) => a.from - b.from || a.to - b.to)
    .map((p) => `${p.from}-${p.to}`)
    .join(",");
}

/**
 * The app's destinations grouped by (ports, protocol). Groups are ordered by their first
 * destination in numeric CIDR order, destinations inside a group likewise, ports ascending.
 */
export function destinationGroups(
  destinations: readonly PrivateAppDestination[],
): DestinationGroup[] {
  const sorted = [...destinations].sort((a, b) => compareCidrs(a.cidr, b.cidr));
  const groups = new Map<string, DestinationGroup>();
  for (const destination of sorted) {
    const key = `${portsKey(destination.ports)}|${destination.protocol ?? "any"}`;
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, {
        destinations: [destination.cidr],
        ports: [...destination.ports].sort((a, b) => a.from - b.from || a.to - b.to),
        protocol: destination.protocol,
      });
    } else if (!group.destinations.includes(destination.cidr)) {
      group.destinations.push(destination.cidr);
    }
  }
  return [...groups.values()];
}

/**
 * How many consecutive precedences an app holds, from `spec.precedence` on: two per destination
 * group (the allow at `precedence + 2i`, the block at `precedence + 2i + 1`).
 */
export function privateAppSpan(spec: Pick<PrivateAppSpec, "destinations">): number {
  return 2 * destinationGroups(spec.destinations).length;
}

function escapeDomain(domain: string): string {
  return domain.replace(/[.\\+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

/**
 * The email regex that says "one of these domains, or the app's own regex": domains become
 * `^[^@]+@(?:example\.com|corp\.example\.org)$` (anchored, dots escaped), ORed with the app's
 * regex as `(?:<regex>)|…`. Null when the app lists neither. Access has no regex rule; Gateway's
 * `identity.email matches` carries both.
 */
export function identityRegex(
  spec: Pick<PrivateAppSpec, "emailDomains" | "emailRegex">,
): string | null {
  const domains =
    spec.emailDomains.length === 0
      ? null
      : `^[^@]+@(?:${[...spec.emailDomains].sort().map(escapeDomain).join("|")})$`;
  if (spec.emailRegex === null) {
    return domains;
  }
  return domains === null ? spec.emailRegex : `(?:${spec.emailRegex})|${domains}`;
}

/** The key of a derived policy: `<app id>-allow-<group>` or `<app id>-block-<group>`. */
export function derivedPolicyKey(appId: string, action: "allow" | "block", group: number): string {
  return `${appId}-${action}-${group}`;
}

/** The app id a derived policy key belongs to, or null when `key` is not one. */
export function privateAppOf(key: string): string | null {
  const match = DERIVED_KEY.exec(key);
  return match?.[1] ?? null;
}

/**
 * The network policies of one live app, allow then block per destination group. The derived
 * objects take the app's version and sync state, so drift on them counts as drift of the app.
 */
export function privateAppPolicies(
  app: DesiredObject<"private_app">,
): DesiredObject<"network_policy">[] {
  const { spec } = app;
  const groups = destinationGroups(spec.destinations);
  const regex = identityRegex(spec);
  const suffix = (i: number) => (groups.length > 1 ? ` #${i + 1}` : "");
  return groups.flatMap((group, i) => {
    const traffic = {
      destinations: group.destinations,
      ports: group.ports,
      protocols: group.protocol === null ? [] : [group.protocol],
    };
    const allow: NetworkPolicySpec = {
      name: `${spec.name}${suffix(i)}: allow`,
      action: "allow",
      precedence: spec.precedence + 2 * i,
      enabled: spec.enabled,
      ...traffic,
      emails: spec.emails,
      emailRegex: regex,
      groups: spec.groups,
    };
    const block: NetworkPolicySpec = {
      name: `${spec.name}${suffix(i)}: block everyone else`,
      action: "block",
      precedence: spec.precedence + 2 * i + 1,
      enabled: spec.enabled,
      ...traffic,
      emails: [],
      emailRegex: null,
    };
    return [
      derived(app, derivedPolicyKey(app.id, "allow", i), allow),
      derived(app, derivedPolicyKey(app.id, "block", i), block),
    ];
  });
}

function derived(
  app: DesiredObject<"private_app">,
  id: string,
  spec: NetworkPolicySpec,
): DesiredObject<"network_policy"> {
  return {
    kind: "network_policy",
    id,
    version: app.version,
    spec,
    cloudflareId: null,
    syncedVersion: app.syncedVersion,
    createRequestedAtMs: null,
    deletedAtMs: null,
  };
}
