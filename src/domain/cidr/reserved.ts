/**
 * Cloudflare's reserved ranges for WARP and Gateway. A tunnel route inside one of them would
 * fight Cloudflare's own addressing, so tunnelplane refuses it; a broader route that contains
 * one is harmless (the reserved range wins by longest prefix) and is accepted without a word.
 * The IPv4 initial resolved IP range is per account (`172.64.128.0/20` by default since
 * 2026-08-05, `100.80.0.0/16` on older accounts, or the account's own), so the table is built
 * from the account's setting.
 */

import { parseKnownCidr } from "./known";
import { prefixContains } from "./lookup";
import type { Prefix } from "./parse";

/** One reserved range and what Cloudflare uses it for. */
export interface ReservedRange {
  /** Canonical CIDR. */
  network: string;
  /** Cloudflare's name for the range. */
  purpose: string;
}

/**
 * How a network meets a reserved range:
 * - `inside`: the network is the reserved range or a subset of it (refused with 422);
 * - `contains`: the network is a strict superset (allowed, the reserved range still wins).
 */
export interface ReservedRangeMatch {
  range: ReservedRange;
  relation: "inside" | "contains";
}

/** What Cloudflare calls the range Gateway answers routed hostnames from. */
export const INITIAL_RESOLVED_PURPOSE = "Gateway initial resolved IPs";

/**
 * The IPv4 initial resolved IP range of a new account (since 2026-08-05).
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/configure-initial-resolved-ips/
 */
export const DEFAULT_INITIAL_RESOLVED_IPV4 = "172.64.128.0/20";

/** The IPv6 initial resolved IP range: the same for every account, not configurable. */
export const INITIAL_RESOLVED_IPV6 = "2606:4700:cf1:4000::/64";

/**
 * The reserved ranges no account can change, IPv4 then IPv6, in the docs' order.
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/reserved-ips/
 */
export const FIXED_RESERVED_RANGES: readonly ReservedRange[] = [
  { network: "100.64.0.0/12", purpose: "Cloudflare source IPs" },
  { network: "100.96.0.0/12", purpose: "Device IPs" },
  { network: "100.112.0.0/16", purpose: "Private Load Balancer IPs" },
  { network: "2606:4700:cf1:1000::/64", purpose: "Device IPs" },
  { network: INITIAL_RESOLVED_IPV6, purpose: INITIAL_RESOLVED_PURPOSE },
  { network: "2606:4700:cf1:5000::/64", purpose: "Cloudflare source IPs" },
];

/**
 * The account's reserved ranges: `FIXED_RESERVED_RANGES` with its IPv4 initial resolved range
 * (canonical CIDR) second, where the docs list it.
 */
export function reservedRangesFor(initialResolvedIpv4: string): ReservedRange[] {
  const [first, ...rest] = FIXED_RESERVED_RANGES;
  return [
    ...(first === undefined ? [] : [first]),
    { network: initialResolvedIpv4, purpose: INITIAL_RESOLVED_PURPOSE },
    ...rest,
  ];
}

/** The reserved ranges of an account on the default initial resolved range. */
export const CLOUDFLARE_RESERVED_RANGES: readonly ReservedRange[] = reservedRangesFor(
  DEFAULT_INITIAL_RESOLVED_IPV4,
);

/**
 * The first range of `ranges` (table order) that shares an address with `network`, and how, or
 * `undefined`. A network inside a range is reported before one it merely contains. `network` is
 * a `Prefix` or a valid CIDR string, and so is every range (invalid text throws `RangeError`).
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/reserved-ips/
 */
export function findReservedRange(
  network: Prefix | string,
  ranges: readonly ReservedRange[] = CLOUDFLARE_RESERVED_RANGES,
): ReservedRangeMatch | undefined {
  const prefix = typeof network === "string" ? parseKnownCidr(network) : network;
  const parsed = ranges.map((range) => ({ range, prefix: parseKnownCidr(range.network) }));
  const inside = parsed.find((reserved) => prefixContains(reserved.prefix, prefix));
  if (inside) {
    return { range: inside.range, relation: "inside" };
  }
  const contains = parsed.find((reserved) => prefixContains(prefix, reserved.prefix));
  return contains ? { range: contains.range, relation: "contains" } : undefined;
}

/**
 * Whether a route to `network` must be refused: it is one of `ranges` or a subset of one
 * ("routes should not include subsets of these reserved ranges"). Broader networks are allowed.
 */
export function isReservedRange(
  network: Prefix | string,
  ranges: readonly ReservedRange[] = CLOUDFLARE_RESERVED_RANGES,
): boolean {
  return findReservedRange(network, ranges)?.relation === "inside";
}
