/**
 * The emulator's own CIDR handling (independent of tunnelplane's): strict parsing with
 * ipaddr.js, canonical form (host bits cleared, a bare address is a /32 or /128, IPv6 in
 * RFC 5952 form) and containment tests used by route filters and route-by-IP lookups.
 */
import ipaddr from "ipaddr.js";

/** A parsed, canonical network. */
export interface Network {
  /** Address family. */
  kind: "ipv4" | "ipv6";
  /** The network address (host bits cleared). */
  address: ipaddr.IPv4 | ipaddr.IPv6;
  /** Prefix length in bits: 0..32 for IPv4, 0..128 for IPv6 (inclusive). */
  prefixLength: number;
  /** Canonical text, e.g. `10.0.0.0/8` or `2001:db8::/32` (RFC 5952, RFC 4632 §3.1). */
  text: string;
}

/**
 * Parses `a.b.c.d/n`, `x:y::z/n` or a bare address (a /32 or /128).
 * Host bits are cleared rather than refused (`10.1.2.3/8` -> `10.0.0.0/8`); this is the
 * emulator's documented choice, since Cloudflare's behaviour is unconfirmed.
 * @returns the canonical network, or undefined for anything that is not an IP or CIDR
 *   (short IPv4 forms like `10.1`, octal or hex parts, zone ids, prefixes past the family size).
 */
export function parseNetwork(input: string): Network | undefined {
  const trimmed = input.trim();
  const slash = trimmed.indexOf("/");
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? undefined : trimmed.slice(slash + 1);
  const address = parseAddress(addressText);
  if (address === undefined) {
    return undefined;
  }
  const maxBits = address.kind() === "ipv4" ? 32 : 128;
  let prefixLength = maxBits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) {
      return undefined;
    }
    prefixLength = Number(prefixText);
    if (prefixLength > maxBits) {
      return undefined;
    }
  }
  const network = maskAddress(address, prefixLength);
  return {
    kind: network.kind(),
    address: network,
    prefixLength,
    text: `${formatAddress(network)}/${prefixLength}`,
  };
}

/** Parses one bare address strictly (dotted quad for IPv4, no zone id for IPv6). */
export function parseAddress(input: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(input)) {
    return ipaddr.IPv4.parse(input);
  }
  if (input.includes(":") && !input.includes("%") && ipaddr.IPv6.isValid(input)) {
    return ipaddr.IPv6.parse(input);
  }
  return undefined;
}

/** Text form: dotted quad, or RFC 5952 for IPv6 (lower case, longest zero run compressed). */
export function formatAddress(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  return address.kind() === "ipv4"
    ? address.toString()
    : (address as ipaddr.IPv6).toRFC5952String();
}

/** True when `inner` lies entirely inside `outer` (equal networks included). */
export function contains(outer: Network, inner: Network): boolean {
  return (
    outer.kind === inner.kind &&
    inner.prefixLength >= outer.prefixLength &&
    matches(inner.address, outer.address, outer.prefixLength)
  );
}

/** True when the single address lies inside the network. */
export function containsAddress(network: Network, address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return network.kind === address.kind() && matches(address, network.address, network.prefixLength);
}

function matches(
  address: ipaddr.IPv4 | ipaddr.IPv6,
  network: ipaddr.IPv4 | ipaddr.IPv6,
  prefixLength: number,
): boolean {
  // ipaddr.js types `match` per family; both sides are checked to be the same family first.
  return (address as ipaddr.IPv4).match(network as ipaddr.IPv4, prefixLength);
}

function maskAddress(
  address: ipaddr.IPv4 | ipaddr.IPv6,
  prefixLength: number,
): ipaddr.IPv4 | ipaddr.IPv6 {
  const bytes = address.toByteArray();
  const masked = bytes.map((byte, index) => {
    const bitsLeft = prefixLength - index * 8;
    if (bitsLeft >= 8) {
      return byte;
    }
    if (bitsLeft <= 0) {
      return 0;
    }
    return byte & (0xff << (8 - bitsLeft)) & 0xff;
  });
  return ipaddr.fromByteArray(masked);
}
