/**
 * Fixed address tables for split tunnels: WARP's default Exclude list, which of its entries serve
 * the device's own link, and common home LANs.
 */
import type { SplitTunnelEntry } from "../model";

/** A split tunnel entry that names an address range (never a host). */
export type SplitTunnelAddressEntry = Extract<SplitTunnelEntry, { address: string }>;

/**
 * The 16 entries a fresh account's Exclude list holds, in the order of Cloudflare's table, with
 * a description only where the table shows one (`""` elsewhere). All canonical CIDRs.
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/route-traffic/split-tunnels/
 */
export const WARP_DEFAULT_EXCLUDES: readonly SplitTunnelAddressEntry[] = [
  { address: "10.0.0.0/8", description: "" },
  { address: "100.64.0.0/10", description: "" },
  { address: "169.254.0.0/16", description: "DHCP Unspecified" },
  { address: "172.16.0.0/12", description: "" },
  { address: "192.0.0.0/24", description: "" },
  { address: "192.168.0.0/16", description: "" },
  { address: "224.0.0.0/24", description: "" },
  { address: "240.0.0.0/4", description: "" },
  { address: "255.255.255.255/32", description: "DHCP Broadcast" },
  { address: "fe80::/10", description: "IPv6 Link Local" },
  { address: "fd00::/8", description: "" },
  { address: "ff01::/16", description: "" },
  { address: "ff02::/16", description: "" },
  { address: "ff03::/16", description: "" },
  { address: "ff04::/16", description: "" },
  { address: "ff05::/16", description: "" },
];

/** A WARP default Exclude entry whose addresses only mean something on the device's own link. */
export interface LocalDefaultExclude {
  /** Canonical CIDR, as in `WARP_DEFAULT_EXCLUDES`. */
  address: string;
  /** What a device uses the addresses for, as a phrase for messages. */
  purpose: string;
}

/**
 * The WARP defaults that keep a device's own link traffic off the tunnel, in table order. The
 * others (RFC 1918, CGNAT, `192.0.0.0/24`, `240.0.0.0/4`, `fd00::/8`) are space a private network
 * may be numbered in, and routes are meant to carve them. These are not: a host takes an IPv4
 * link-local address when DHCP gives it none (RFC 3927), DHCP servers answer to the limited
 * broadcast address (RFC 2131 §4.1), routers never forward 224.0.0.0/24 (RFC 5771 §4), IPv6
 * neighbour discovery runs on fe80::/10 (RFC 4291 §2.5.6, RFC 4861) and ff01::/16..ff05::/16 are
 * the multicast scopes up to site-local (RFC 4291 §2.7, RFC 7346). A route that carves one sends
 * that traffic into WARP, away from the link it is meant for.
 */
export const LOCAL_DEFAULT_EXCLUDES: readonly LocalDefaultExclude[] = [
  {
    address: "169.254.0.0/16",
    purpose: "IPv4 link-local addresses, which a device takes when DHCP gives it none",
  },
  { address: "224.0.0.0/24", purpose: "local network multicast: mDNS, LLMNR, routing protocols" },
  { address: "255.255.255.255/32", purpose: "limited broadcast: DHCP discovery" },
  {
    address: "fe80::/10",
    purpose: "IPv6 link-local addresses: neighbour discovery, router advertisements",
  },
  { address: "ff01::/16", purpose: "interface-local multicast" },
  { address: "ff02::/16", purpose: "link-local multicast: neighbour discovery, DHCPv6, mDNS" },
  { address: "ff03::/16", purpose: "realm-local multicast" },
  { address: "ff04::/16", purpose: "admin-local multicast" },
  { address: "ff05::/16", purpose: "site-local multicast: DHCPv6 servers, SSDP" },
];

/**
 * The subnets consumer home routers hand out most often. A tunnel route overlapping one is
 * shadowed by the LAN for users at home (the operating system delivers local-subnet traffic
 * directly), so tunnelplane warns about it.
 */
export const HOME_LAN_RANGES: readonly string[] = [
  "10.0.0.0/24",
  "192.168.0.0/24",
  "192.168.1.0/24",
  "172.16.0.0/24",
];
