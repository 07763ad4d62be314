/** Fixed address tables for split tunnels: WARP's default Exclude list and common home LANs. */
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
