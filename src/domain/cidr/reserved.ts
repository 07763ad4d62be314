/**
 * Cloudflare's reserved ranges for WARP and Gateway. A tunnel route inside one of them would
 * fight Cloudflare's own addressing, so tunnelplane refuses it; a broader route that contains
 * one is harmless (the reserved range wins by longest prefix) and is accepted without a word.
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

/**
 * The reserved ranges with their default CIDRs, IPv4 then IPv6, in the docs' order.
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/reserved-ips/
 */
export const CLOUDFLARE_RESERVED_RANGES: readonly ReservedRange[] = [
  { network: "100.64.0.0/12", purpose: "Cloudflare source IPs" },
  { network: "100.80.0.0/16", purpose: "Gateway initial resolved IPs" },
  { network: "100.96.0.0/12", purpose: "Device IPs" },
  { network: "100.112.0.0/16", purpose: "Private Load Balancer IPs" },
  { network: "2606:4700:cf1:1000::/64", purpose: "Device IPs" },
  { network: "2606:4700:cf1:4000::/64", purpose: "Gateway initial resolved IPs" },
  { network: "2606:4700:cf1:5000::/64", purpose: "Cloudflare source IPs" },
];

const RESERVED_PREFIXES = CLOUDFLARE_RESERVED_RANGES.map((range) => ({
  range,
  prefix: parseKnownCidr(range.network),
}));

/**
 * The first reserved range (table order) that shares an address with `network`, and how, or
 * `undefined`. A network inside a range is reported before one it merely contains. `network` is
 * a `Prefix` or a valid CIDR string (invalid text throws `RangeError`).
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/reserved-ips/
 */
export function findReservedRange(network: Prefix | string): ReservedRangeMatch | undefined {
  const prefix = typeof network === "string" ? parseKnownCidr(network) : network;
  const inside = RESERVED_PREFIXES.find((reserved) => prefixContains(reserved.prefix, prefix));
  if (inside) {
    return { range: inside.range, relation: "inside" };
  }
  const contains = RESERVED_PREFIXES.find((reserved) => prefixContains(prefix, reserved.prefix));
  return contains ? { range: contains.range, relation: "contains" } : undefined;
}

/**
 * Whether a route to `network` must be refused: it is a reserved range or a subset of one
 * ("routes should not include subsets of these reserved ranges"). Broader networks are allowed.
 */
export function isReservedRange(network: Prefix | string): boolean {
  return findReservedRange(network)?.relation === "inside";
}
