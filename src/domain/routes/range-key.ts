/**
 * Sortable text keys for the address range of a route, so the store can index routes by range
 * and find the ones that nest with a network (the only way two CIDRs overlap) without reading
 * every route. A key is the family digit then the address as 32 hex digits: keys of one family
 * compare like the addresses they encode, and IPv4 keys all sort before IPv6 keys.
 */
import { hostMask, type IpFamily, parseKnownCidr } from "../cidr";

/** The first and last address of a route's range as keys (both inclusive). */
export interface RangeKeys {
  first: string;
  last: string;
}

/** The key of one address (`address` 0..2^32-1 for IPv4, 0..2^128-1 for IPv6). */
export function addressKey(family: IpFamily, address: bigint): string {
  return `${family}${address.toString(16).padStart(32, "0")}`;
}

/**
 * The keys of the first and last address of `network`, a valid CIDR (stored routes are
 * canonical; anything else throws `RangeError`).
 */
export function rangeKeysOf(network: string): RangeKeys {
  const { family, address, prefixLength } = parseKnownCidr(network);
  return {
    first: addressKey(family, address),
    last: addressKey(family, address | hostMask(family, prefixLength)),
  };
}

/**
 * The distinct first-address keys of every network that strictly contains `network` (prefix
 * lengths 0 .. length - 1), in ascending order: a route nests above `network` only if its range
 * starts at one of them. At most 32 keys for IPv4, 128 for IPv6.
 */
export function enclosingFirstKeys(network: string): string[] {
  const { family, address, prefixLength } = parseKnownCidr(network);
  const keys = new Set<string>();
  for (let length = 0; length < prefixLength; length++) {
    keys.add(addressKey(family, address & ~hostMask(family, length)));
  }
  return [...keys].sort();
}
