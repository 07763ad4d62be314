/**
 * What a fresh account holds: the WARP default Exclude list, default profile settings and
 * device/connectivity settings. Values follow Cloudflare's docs where they exist; the rest are
 * the emulator's documented choices (see emulator/README.md).
 */
import type {
  ConnectivitySettings,
  DeviceSettings,
  FallbackDomain,
  SplitTunnelEntry,
} from "./types";

/**
 * WARP's default Exclude list, 16 entries, in the order of the docs table; entries without a
 * description there have no `description` key.
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/route-traffic/split-tunnels/
 */
export const DEFAULT_EXCLUDES: readonly SplitTunnelEntry[] = [
  { address: "10.0.0.0/8" },
  { address: "100.64.0.0/10" },
  { address: "169.254.0.0/16", description: "DHCP Unspecified" },
  { address: "172.16.0.0/12" },
  { address: "192.0.0.0/24" },
  { address: "192.168.0.0/16" },
  { address: "224.0.0.0/24" },
  { address: "240.0.0.0/4" },
  { address: "255.255.255.255/32", description: "DHCP Broadcast" },
  { address: "fe80::/10", description: "IPv6 Link Local" },
  { address: "fd00::/8" },
  { address: "ff01::/16" },
  { address: "ff02::/16" },
  { address: "ff03::/16" },
  { address: "ff04::/16" },
  { address: "ff05::/16" },
];

/** A fresh copy of the default excludes. */
export function defaultExcludes(): SplitTunnelEntry[] {
  return DEFAULT_EXCLUDES.map((entry) => ({ ...entry }));
}

/**
 * The Local Domain Fallback list every device profile starts with: the 14 top-level suffixes
 * Cloudflare resolves with the device's own DNS, in the order Cloudflare lists them (Cloudflare's
 * Terraform provider docs, `cloudflare_fallback_domain`, "Explicitly adding example.com to the
 * default entries"; the WARP docs say only "common top-level domains").
 * @see https://developers.cloudflare.com/cloudflare-one/connections/connect-devices/warp/configure-warp/route-traffic/local-domains/
 */
export const DEFAULT_FALLBACK_SUFFIXES: readonly string[] = [
  "intranet",
  "internal",
  "private",
  "localdomain",
  "domain",
  "lan",
  "home",
  "host",
  "corp",
  "local",
  "localhost",
  "home.arpa",
  "invalid",
  "test",
];

/** A fresh copy of the default fallback domains (`{suffix}` only, as Cloudflare lists them). */
export function defaultFallbackDomains(): FallbackDomain[] {
  return DEFAULT_FALLBACK_SUFFIXES.map((suffix) => ({ suffix }));
}

/** Settable device profile fields and their values on a fresh profile. */
export function defaultProfileSettings(): Record<string, unknown> {
  return {
    allow_mode_switch: false,
    allow_updates: false,
    allowed_to_leave: true,
    auto_connect: 0,
    captive_portal: 180,
    disable_auto_fallback: false,
    exclude_office_ips: false,
    fallback_domains: defaultFallbackDomains(),
    register_interface_ip_with_dns: true,
    sccm_vpn_boundary_support: false,
    service_mode_v2: { mode: "warp" },
    support_url: "",
    switch_locked: false,
    tunnel_protocol: "wireguard",
  };
}

/** Device settings of a fresh account: every toggle off. */
export function defaultDeviceSettings(): DeviceSettings {
  return {
    disable_for_time: 0,
    external_emergency_signal_enabled: false,
    gateway_proxy_enabled: false,
    gateway_udp_proxy_enabled: false,
    root_certificate_installation_enabled: false,
    use_zt_virtual_ip: false,
  };
}

/** Connectivity settings of a fresh account: both off. */
export function defaultConnectivitySettings(): ConnectivitySettings {
  return { icmp_proxy_enabled: false, offramp_warp_enabled: false };
}
