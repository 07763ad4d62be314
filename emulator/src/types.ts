/**
 * Stored shapes of the emulated Cloudflare objects, in Cloudflare's snake_case wire form. What
 * the API returns is built from these by the `to…Resource` functions of each resource module.
 */

/** A virtual network (`teamnet/virtual_networks`). */
export interface VirtualNetwork {
  id: string;
  name: string;
  comment: string;
  is_default_network: boolean;
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339 when soft-deleted, else null. */
  deleted_at: string | null;
}

/** Health of a cloudflared tunnel; `inactive` means it never connected. */
export type TunnelStatus = "inactive" | "degraded" | "healthy" | "down";

/** A cloudflared tunnel (`cfd_tunnel`) plus its secret, which the API never returns as such. */
export interface TunnelRecord {
  id: string;
  account_tag: string;
  name: string;
  config_src: "local" | "cloudflare";
  status: TunnelStatus;
  created_at: string;
  deleted_at: string | null;
  conns_active_at: string | null;
  conns_inactive_at: string | null;
  /** Base64 of the tunnel secret (32 random bytes unless the caller sent one). */
  secret: string;
  /** Id of the one emulated connector while the tunnel is connected, else null. */
  connector_id: string | null;
}

/** A tunnel route (`teamnet/routes`), `Route` shape. */
export interface RouteRecord {
  id: string;
  /** Canonical CIDR (host bits cleared, IPv6 in RFC 5952 form). */
  network: string;
  tunnel_id: string;
  virtual_network_id: string;
  comment: string;
  created_at: string;
  deleted_at: string | null;
}

/** A Zero Trust subnet (`zerotrust/subnets`); the emulator keeps only the initial resolved IP one. */
export interface SubnetRecord {
  id: string;
  name: string;
  comment: string;
  /** Canonical CIDR. */
  network: string;
  is_default_network: boolean;
  subnet_type: "initial_resolved_ip";
  created_at: string;
  deleted_at: string | null;
}

/** A private hostname route (`zerotrust/routes/hostname`); no virtual network. */
export interface HostnameRouteRecord {
  id: string;
  /** Cloudflare's stored form: dots trimmed, a leading `*.` dropped. */
  hostname: string;
  tunnel_id: string;
  comment: string;
  created_at: string;
  deleted_at: string | null;
}

/** A Gateway rule (`gateway/rules`). */
export interface GatewayRule {
  id: string;
  name: string;
  description: string;
  action: string;
  enabled: boolean;
  filters: string[];
  traffic: string;
  identity: string;
  device_posture: string;
  precedence: number;
  rule_settings: Record<string, unknown>;
  schedule: unknown;
  expiration: unknown;
  /** True for a rule shared from a parent account (Cloudflare Organizations): never writable. */
  read_only: boolean;
  /** Whether child accounts may receive the rule. */
  sharable: boolean;
  /** Account tag of the account that created the rule. */
  source_account: string;
  /** A warning for a misconfigured rule, or null. */
  warning_status: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** A split tunnel entry: `address` xor `host`; `description` is left out when not sent. */
export interface SplitTunnelEntry {
  address?: string;
  host?: string;
  description?: string;
}

/** Split tunnel mode; the API has no mode field, the profile carries `include` or `exclude`. */
export type SplitTunnelMode = "exclude" | "include";

/** A device profile: the default one (`policy_id` null) or a custom one. */
export interface DeviceProfile {
  /** Null for the default profile. */
  policy_id: string | null;
  /** Settable profile fields other than the split tunnel list (auto_connect, …). */
  settings: Record<string, unknown>;
  mode: SplitTunnelMode;
  /** The active list (exclude or include, per `mode`), in the order it was written. */
  entries: SplitTunnelEntry[];
  /** Custom profiles only. */
  name: string;
  description: string;
  match: string;
  precedence: number;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

/** A Local Domain Fallback entry (`teams-devices_fallback_domain`). */
export interface FallbackDomain {
  /** Domain suffix resolved by the device's DNS (lower case, no leading or trailing dot). */
  suffix: string;
  /** At most 100 characters; left out when not sent. */
  description?: string;
  /** IP addresses of the DNS servers to ask; left out when not sent. */
  dns_server?: string[];
}

/** Device settings (`devices/settings`). */
export type DeviceSettings = Record<string, unknown>;

/** Connectivity settings (`zerotrust/connectivity_settings`). */
export interface ConnectivitySettings {
  icmp_proxy_enabled: boolean;
  offramp_warp_enabled: boolean;
}

/** A link from an Access application to a reusable policy. */
export interface PolicyLink {
  id: string;
  /** Order inside the application, unique per application (1-based). */
  precedence: number;
}

/**
 * An Access application (`access/apps`): the validated fields plus whatever else the caller
 * sent (`fields`), which is echoed back as is.
 */
export interface AccessApp {
  id: string;
  /** 64 hex characters. */
  aud: string;
  type: string;
  name: string;
  domain: string;
  destinations: Record<string, unknown>[];
  policies: PolicyLink[];
  fields: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** A reusable Access policy (`access/policies`). */
export interface AccessPolicy {
  id: string;
  name: string;
  decision: string;
  include: Record<string, unknown>[];
  exclude: Record<string, unknown>[];
  require: Record<string, unknown>[];
  session_duration: string;
  fields: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}
