/**
 * The rules for an account's IPv4 initial resolved IP range, the range Gateway answers routed
 * private hostnames from: an IPv4 CIDR with host bits clear, /8 to /24, clear of Cloudflare's
 * other reserved ranges, and holding no route of the account (Cloudflare refuses a range that
 * conflicts with existing routes).
 * @see https://developers.cloudflare.com/cloudflare-one/networks/routes/configure-initial-resolved-ips/
 */
import { err, ok, type Result } from "../result";
import { parseKnownCidr } from "./known";
import { prefixContains, prefixesOverlap } from "./lookup";
import { canonicalCidr, parseCidr } from "./parse";
import { FIXED_RESERVED_RANGES } from "./reserved";

/** Shortest and longest prefix length accepted, inclusive (WARP's subnet rule: /24 or wider). */
export const INITIAL_RESOLVED_PREFIX_LENGTHS = { min: 8, max: 24 } as const;

/** Why a range cannot be the account's initial resolved range, as a sentence. */
export interface InitialResolvedRangeError {
  reason: string;
}

/**
 * Checks `input` as an account's IPv4 initial resolved range; pure.
 * @returns the canonical CIDR, or the reason it is refused (not an IPv4 CIDR, host bits set with
 * the canonical form, prefix length outside 8..24, overlap with a fixed reserved range).
 */
export function checkInitialResolvedRange(
  input: string,
): Result<string, InitialResolvedRangeError> {
  const canonical = canonicalCidr(input);
  if (!canonical.ok) {
    return err({
      reason:
        canonical.error.code === "host-bits-set"
          ? `${input} has host bits set; the canonical form is ${canonical.error.canonical}`
          : `${input} is not a CIDR (${canonical.error.reason})`,
    });
  }
  const prefix = parseCidr(canonical.value);
  if (!prefix.ok || prefix.value.family !== 4) {
    return err({ reason: `${input} is not an IPv4 range (the IPv6 range is fixed)` });
  }
  const { min, max } = INITIAL_RESOLVED_PREFIX_LENGTHS;
  if (prefix.value.prefixLength < min || prefix.value.prefixLength > max) {
    return err({ reason: `${canonical.value} must be a /${min} to /${max}` });
  }
  const clash = FIXED_RESERVED_RANGES.find((range) => {
    const reserved = parseKnownCidr(range.network);
    return prefixesOverlap(reserved, prefix.value);
  });
  if (clash !== undefined) {
    return err({
      reason: `${canonical.value} overlaps Cloudflare's reserved range ${clash.network} (${clash.purpose})`,
    });
  }
  return ok(canonical.value);
}

/** The networks of `routes` (canonical CIDRs) that lie inside `range`, in input order. */
export function routesInside<T extends { network: string }>(
  range: string,
  routes: readonly T[],
): T[] {
  const outer = parseKnownCidr(range);
  return routes.filter((route) => prefixContains(outer, parseKnownCidr(route.network)));
}
