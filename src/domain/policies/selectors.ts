/**
 * The structured selectors of a Gateway network policy and their one canonical form. Rendering,
 * parsing back and comparing all go through `normalizeSelectors`, so two spellings of the same
 * selectors (order, duplicates, CIDR text) never show up as a difference.
 */
import { parseKnownCidr } from "../cidr/known";
import { canonicalCidr } from "../cidr/parse";
import type { NetworkPolicySpec, NetworkProtocol, PortRange } from "../model";

/** The protocols a structured policy can name, in the order they are rendered. */
export const NETWORK_PROTOCOLS: readonly NetworkProtocol[] = ["icmp", "tcp", "udp"];

/**
 * The "who may reach what" part of a network policy, in canonical form.
 *
 * Proposed extension of `NetworkPolicySpec`: `groups` (identity provider group names, matched
 * with `any(identity.groups.name[*] in {…})`). Every list is sorted and free of duplicates;
 * an empty list means "any" for that selector.
 */
export interface PolicySelectors {
  /** Canonical CIDRs (`10.0.0.0/8`, `10.128.0.7/32`, `2001:db8::/32`), IPv4 first, ascending. */
  destinations: string[];
  /** Inclusive destination port ranges (1..65535), ascending by `from` then `to`. */
  ports: PortRange[];
  /** Layer 4 protocols, in `NETWORK_PROTOCOLS` order. */
  protocols: NetworkProtocol[];
  /** Exact user emails, lower case, ascending. */
  emails: string[];
  /** A Gateway `matches` regex over `identity.email` (Rust regex syntax, unanchored), or null. */
  emailRegex: string | null;
  /** Identity provider group names (case kept), ascending by code unit. */
  groups: string[];
}

/**
 * What callers hand to `renderNetworkPolicy` and `normalizeSelectors`: a `NetworkPolicySpec`
 * fits, and `groups` may be left out (no group selector).
 */
export type PolicySelectorsInput = Pick<
  NetworkPolicySpec,
  "destinations" | "ports" | "protocols" | "emails" | "emailRegex"
> & { groups?: readonly string[] };

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Numeric order of two valid CIDRs: IPv4 before IPv6, then network address, then prefix length
 * (shorter first). Text order would put `10.128.0.0/9` before `10.2.0.0/16`.
 */
export function compareCidrs(a: string, b: string): number {
  const left = parseKnownCidr(a);
  const right = parseKnownCidr(b);
  if (left.family !== right.family) {
    return left.family - right.family;
  }
  if (left.address !== right.address) {
    return left.address < right.address ? -1 : 1;
  }
  return left.prefixLength - right.prefixLength;
}

function uniqueSorted<T>(items: readonly T[], compare: (a: T, b: T) => number): T[] {
  const sorted = [...items].sort(compare);
  return sorted.filter((item, index) => {
    const previous = sorted[index - 1];
    return index === 0 || previous === undefined || compare(previous, item) !== 0;
  });
}

/**
 * Canonical CIDR text of a stored destination. Stored selectors were validated on the way in, so
 * an unparsable one is a broken invariant and throws `RangeError`.
 */
function canonicalDestination(destination: string): string {
  const parsed = canonicalCidr(destination);
  if (!parsed.ok) {
    throw new RangeError(`not a valid destination: ${JSON.stringify(destination)}`);
  }
  return parsed.value;
}

/**
 * The canonical form of policy selectors: CIDRs canonical (bare addresses become /32 or /128)
 * and sorted numerically (IPv4 before IPv6, then address, then prefix length), ports sorted by
 * `from` then `to`, protocols in `NETWORK_PROTOCOLS` order, emails lower case and sorted, groups
 * sorted; exact duplicates dropped everywhere. Overlapping CIDRs or port ranges are kept as
 * written: merging them would change what the user sees without changing what matches.
 * An empty `emailRegex` is treated as null. Throws `RangeError` on an invalid destination.
 */
export function normalizeSelectors(input: PolicySelectorsInput): PolicySelectors {
  return {
    destinations: uniqueSorted(input.destinations.map(canonicalDestination), compareCidrs),
    ports: uniqueSorted(
      input.ports.map(({ from, to }) => ({ from, to })),
      (a, b) => a.from - b.from || a.to - b.to,
    ),
    protocols: NETWORK_PROTOCOLS.filter((protocol) => input.protocols.includes(protocol)),
    emails: uniqueSorted(
      input.emails.map((email) => email.toLowerCase()),
      compareStrings,
    ),
    emailRegex: input.emailRegex === null || input.emailRegex === "" ? null : input.emailRegex,
    groups: uniqueSorted(input.groups ?? [], compareStrings),
  };
}
