/**
 * Containment and longest-prefix lookups between single prefixes. Two prefixes either nest or
 * are disjoint, so containment is one comparison of masked addresses.
 */
import { parseKnownCidr } from "./known";
import { hostMask, type Prefix } from "./parse";

/** Whether `outer` contains every address of `inner` (a prefix contains itself). */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  return (
    outer.family === inner.family &&
    outer.prefixLength <= inner.prefixLength &&
    inner.address >= outer.address &&
    inner.address <= (outer.address | hostMask(outer.family, outer.prefixLength))
  );
}

/** Whether two prefixes share at least one address (then one contains the other). */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return prefixContains(a, b) || prefixContains(b, a);
}

/**
 * The entry whose `network` is the most specific prefix containing `address`, or `undefined`
 * when none does. Ties (the same network twice) go to the earlier entry. This is how Cloudflare
 * picks the route for a destination inside one virtual network.
 *
 * `address` is an IPv4 or IPv6 address (a CIDR is accepted and matched as a whole range);
 * IPv4-mapped IPv6 addresses match IPv4 networks. Networks must be valid CIDRs. Invalid input
 * is a broken invariant and throws `RangeError` (validate user input with `parseCidr` first).
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/private-net/cloudflared/tunnel-virtual-networks/
 */
export function longestPrefixMatch<T extends { network: string }>(
  address: string,
  entries: readonly T[],
): T | undefined {
  const target = parseKnownCidr(address);
  let best: T | undefined;
  let bestLength = -1;
  for (const entry of entries) {
    const network = parseKnownCidr(entry.network);
    if (network.prefixLength > bestLength && prefixContains(network, target)) {
      best = entry;
      bestLength = network.prefixLength;
    }
  }
  return best;
}
