/**
 * The desired-state and observed-state model shared by the API, the store, the planner and the
 * Cloudflare adapters. Specs are what a user asked for (camelCase, already validated and in
 * canonical form); Observed* are Cloudflare objects as the list endpoints return them, converted
 * once in src/cloudflare. Neither side carries SDK objects or database rows.
 */
import type { GrantPolicySource } from "./grants/grant";
import type { NetworkProtocol, PortRange } from "./ports";

export type { NetworkProtocol, PortRange };

/** Every kind of desired object tunnelplane reconciles, in dependency order. */
export const KINDS = [
  "virtual_network",
  "tunnel",
  "tunnel_route",
  "hostname_route",
  "split_tunnel",
  "device_profile",
  "proxy_settings",
  "network_policy",
  "private_app",
  "enrollment_rule",
  "assertion",
] as const;

/** One kind of desired object. */
export type Kind = (typeof KINDS)[number];

/** Account mode: `enforce` applies plans; `observe` only records drift. */
export type AccountMode = "enforce" | "observe";

/** A virtual network (Cloudflare `teamnet/virtual_networks`). */
export interface VirtualNetworkSpec {
  /** Unique name, 1..256 characters. */
  name: string;
  /** Free text shown in the dashboard; tunnelplane appends its ownership marker to it. */
  comment: string;
  /** Whether this is the account's default virtual network (routes without one land here). */
  isDefault: boolean;
}

/** A remotely managed cloudflared tunnel (`config_src = cloudflare`). */
export interface TunnelSpec {
  /** Unique tunnel name in the account, 1..200 characters. */
  name: string;
}

/** A tunnel route: a CIDR announced by a tunnel inside a virtual network. */
export interface TunnelRouteSpec {
  /** Canonical CIDR (host bits clear, IPv6 in RFC 5952 form). */
  network: string;
  /** tunnelplane id of the tunnel that serves the network. */
  tunnelId: string;
  /** tunnelplane id of the virtual network, or null for the account's default one. */
  virtualNetworkId: string | null;
  /** Free text, at most 50 characters (Cloudflare keeps 100; the marker takes the rest). */
  comment: string;
}

/** A private hostname route: a hostname served by a tunnel (no virtual network, Cloudflare's rule). */
export interface HostnameRouteSpec {
  /** Trimmed, lower case; a wildcard only as the whole leading label (`*.apps.acme.internal`). */
  hostname: string;
  /** tunnelplane id of the tunnel that serves the hostname. */
  tunnelId: string;
  /** Free text, at most 50 characters (Cloudflare keeps 100; the marker takes the rest). */
  comment: string;
}

/** One split tunnel entry: an address range or a host name, never both (Cloudflare's rule). */
export type SplitTunnelEntry =
  | { address: string; description: string }
  | { host: string; description: string };

/** Split tunnel mode: Exclude (everything through WARP but the list) or Include (only the list). */
export type SplitTunnelMode = "exclude" | "include";

/** The split tunnel configuration of one device profile. */
export interface SplitTunnelProfileSpec {
  /** Exclude or Include mode. */
  mode: SplitTunnelMode;
  /** When true the list is computed from the routes (see domain/split-tunnels), plus `entries`. */
  auto: boolean;
  /** Entries the user lists: the whole list when `auto` is false, extra entries otherwise. */
  entries: SplitTunnelEntry[];
  /**
   * Most entries an `auto` list may hold, user entries included (absent: `DEFAULT_MAX_ENTRIES`,
   * 1,000). A longer exact list is cut to fit, keeping every routed address in WARP.
   */
  maxEntries?: number;
}

/**
 * A custom device profile (Cloudflare `devices/policy/{policy_id}`) with its own split tunnel.
 * WARP applies the first enabled profile, by ascending precedence, whose `match` fits the device;
 * the default profile (the `split_tunnel` singleton) comes last.
 */
export interface DeviceProfileSpec {
  /** Display name, 1..100 characters. */
  name: string;
  /** Free text; tunnelplane appends its ownership marker to it in Cloudflare. */
  description: string;
  /**
   * Wirefilter expression over identity, OS and network (Cloudflare's `match`), in the canonical
   * text `canonicalDeviceProfileMatch` prints (profiles written before that check: as written).
   */
  match: string;
  /** Ascending order among custom profiles, 1..2^31-1, unique per account. */
  precedence: number;
  enabled: boolean;
  /** The profile's split tunnel: mode, `auto` and the user's entries. */
  splitTunnel: SplitTunnelProfileSpec;
  /**
   * Virtual networks whose routes an `auto` list follows: tunnelplane ids, or `default` for the
   * account's default virtual network. Null means every virtual network.
   */
  virtualNetworkIds: string[] | null;
}

/** Gateway proxy toggles: TCP/UDP live in device settings, ICMP in connectivity settings. */
export interface ProxySettingsSpec {
  tcp: boolean;
  udp: boolean;
  icmp: boolean;
}

/** A Gateway network (l4) policy in structured form. */
export interface NetworkPolicySpec {
  name: string;
  /** `allow` or `block`. */
  action: "allow" | "block";
  /** Ascending evaluation order; unique per account. */
  precedence: number;
  enabled: boolean;
  /** Canonical CIDRs (a single address is a /32 or /128). Empty means any destination. */
  destinations: string[];
  /** Destination ports; empty means any port. */
  ports: PortRange[];
  /** Protocols; empty means every protocol the proxy carries. */
  protocols: NetworkProtocol[];
  /** Exact user emails (lower case). Empty together with emailRegex null means everyone. */
  emails: string[];
  /** A Gateway `matches` regex over `identity.email` (Rust regex syntax, unanchored). */
  emailRegex: string | null;
  /** Identity provider group names (case kept); absent or empty means no group selector. */
  groups?: string[];
  /** Device posture check ids; the policy needs any one of them passed. Absent or empty: none. */
  devicePostureIds?: string[];
  /** Free text kept in Cloudflare's `description` before the ownership marker; absent is "". */
  description?: string;
}

/** One destination of a private-network application. */
export interface PrivateAppDestination {
  /** Canonical CIDR (a single address is a /32 or /128). */
  cidr: string;
  /** Inclusive port ranges; empty means every port. */
  ports: PortRange[];
  /** `tcp` or `udp`, or null for both (Access' `l4_protocol`). */
  protocol: "tcp" | "udp" | null;
}

/**
 * A private-network application: who may reach which destinations. It becomes Gateway network
 * policies, an allow for the listed identities then a block for everyone else, per group of
 * destinations sharing ports and protocol (see domain/plan/derived-policies.ts).
 */
export interface PrivateAppSpec {
  name: string;
  /** Precedence of the first derived policy; the app holds `2 * groups` consecutive values. */
  precedence: number;
  enabled: boolean;
  destinations: PrivateAppDestination[];
  /** Exact user emails, lower case. */
  emails: string[];
  /** Email domains, lower case without `@` (`example.com`). */
  emailDomains: string[];
  /** A Gateway regex over the email (Rust syntax, unanchored), or null. */
  emailRegex: string | null;
  /** Identity provider group names. */
  groups: string[];
}

/** Who may enroll a WARP device: becomes a reusable Access policy linked to the `warp` app. */
export interface EnrollmentRuleSpec {
  name: string;
  /** Exact user emails, lower case. */
  emails: string[];
  /** Email domains, lower case without `@`. */
  emailDomains: string[];
  /** Access group ids (Cloudflare's `group` rule). */
  groups: string[];
}

/** A policy test: whether `email` can reach the destination. Has no Cloudflare counterpart. */
export interface AssertionSpec {
  /** A short sentence naming what is tested; shown when the assertion breaks. */
  name: string;
  /** The user's email, lower case. */
  email: string;
  /** The user's identity provider group names. */
  groups: string[];
  /** Destination IPv4 or IPv6 address. */
  destinationIp: string;
  /** Destination port 1..65535, or null for any / not applicable. */
  port: number | null;
  /** `tcp`, `udp` or `icmp`; null means `tcp`. */
  protocol: NetworkProtocol | null;
  /** `allow`: the verdict must be `allowed`; `deny`: any other verdict. */
  expect: "allow" | "deny";
}

/** Maps each kind to its spec type. */
export interface SpecByKind {
  virtual_network: VirtualNetworkSpec;
  tunnel: TunnelSpec;
  tunnel_route: TunnelRouteSpec;
  hostname_route: HostnameRouteSpec;
  split_tunnel: SplitTunnelProfileSpec;
  device_profile: DeviceProfileSpec;
  proxy_settings: ProxySettingsSpec;
  network_policy: NetworkPolicySpec;
  private_app: PrivateAppSpec;
  enrollment_rule: EnrollmentRuleSpec;
  assertion: AssertionSpec;
}

/** Reconciliation status of a desired object. */
export type SyncState = "pending" | "synced" | "drifted" | "error";

/** A stored desired object, as the planner sees it. */
export interface DesiredObject<K extends Kind = Kind> {
  kind: K;
  /** tunnelplane id (uuid), or the fixed id of a singleton (`default`). */
  id: string;
  /** Optimistic-concurrency version, starts at 1. */
  version: number;
  spec: SpecByKind[K];
  /** Cloudflare id recorded by the last apply, or null. */
  cloudflareId: string | null;
  /** The version last applied or confirmed in Cloudflare, or null when never. */
  syncedVersion: number | null;
  /** When a create was last sent (epoch ms), so a lost create response can be matched later. */
  createRequestedAtMs: number | null;
  /**
   * When the user deleted it (epoch ms), or null. A deleted object stays as a tombstone until a
   * run has deleted its Cloudflare counterpart, so ownership is never forgotten.
   */
  deletedAtMs: number | null;
}

/** The whole desired state of one account. */
export interface DesiredState {
  accountId: string;
  objects: DesiredObject[];
  /**
   * The account's Zero Trust team domain (`<team>.cloudflareaccess.com`, lower case), which
   * Include-mode split tunnels carry; null or absent when the account has none set.
   */
  teamDomain?: string | null;
  /**
   * The account's IPv4 Gateway initial resolved IP range (canonical CIDR); absent means the
   * default, `172.64.128.0/20`.
   */
  initialResolvedIpv4?: string;
  /**
   * Each device profile's Local Domain Fallback suffixes as the last run observed them, keyed by
   * `default` or the custom profile's tunnelplane id (`cloudflare:<policy_id>` for one it does
   * not own). Absent: never observed (Cloudflare's default list is then assumed).
   */
  fallbackDomains?: Record<string, string[]>;
  /** Active access grants; each becomes a derived allow policy (see plan/derived-policies). */
  grants?: GrantPolicySource[];
  /**
   * Read-only Gateway rules shared from a parent account, as the last run observed them: never
   * planned, evaluated first by explain and the grant path check. Absent: none known.
   */
  sharedRules?: ObservedNetworkPolicy[];
  /** When `sharedRules` were read from Cloudflare, epoch ms; absent: never read. */
  sharedRulesObservedAtMs?: number;
}

/** A virtual network as Cloudflare lists it (live ones only). */
export interface ObservedVirtualNetwork {
  cloudflareId: string;
  name: string;
  /** Raw comment, marker included. */
  comment: string;
  isDefault: boolean;
}

/** A cloudflared tunnel as Cloudflare lists it (live ones only). */
export interface ObservedTunnel {
  cloudflareId: string;
  name: string;
  /** Cloudflare's health: inactive, degraded, healthy or down. */
  status: string;
  /** Creation instant, epoch ms. */
  createdAtMs: number;
}

/** A tunnel route as Cloudflare lists it (live ones only). */
export interface ObservedTunnelRoute {
  cloudflareId: string;
  /** CIDR as Cloudflare returns it. */
  network: string;
  tunnelCloudflareId: string;
  virtualNetworkCloudflareId: string;
  /** Raw comment, marker included. */
  comment: string;
}

/** A hostname route as Cloudflare lists it (live ones only). */
export interface ObservedHostnameRoute {
  cloudflareId: string;
  /** Cloudflare's stored form (`apps.acme.internal` for `*.apps.acme.internal`). */
  hostname: string;
  tunnelCloudflareId: string;
  /** Raw comment, marker included. */
  comment: string;
}

/** The split tunnel list of one device profile. */
export interface ObservedSplitTunnel {
  /** `default` for the default profile, else Cloudflare's policy id. */
  profileId: string;
  mode: SplitTunnelMode;
  entries: SplitTunnelEntry[];
  /**
   * The profile's Local Domain Fallback suffixes (lower case, no leading or trailing dot), or
   * absent when they were not read.
   */
  fallbackDomains?: string[];
}

/** A custom device profile as Cloudflare lists it, with its active split tunnel list. */
export interface ObservedDeviceProfile {
  /** Cloudflare's `policy_id`. */
  cloudflareId: string;
  name: string;
  /** Raw description, marker included. */
  description: string;
  match: string;
  precedence: number;
  enabled: boolean;
  /** The active list's mode: `include` when the profile carries an include list. */
  mode: SplitTunnelMode;
  entries: SplitTunnelEntry[];
  /** As in ObservedSplitTunnel: the Local Domain Fallback suffixes, absent when not read. */
  fallbackDomains?: string[];
}

/** A Gateway rule as Cloudflare lists it. */
export interface ObservedNetworkPolicy {
  cloudflareId: string;
  name: string;
  /** Raw description, marker included. */
  description: string;
  action: string;
  enabled: boolean;
  precedence: number;
  filters: string[];
  traffic: string;
  identity: string;
  devicePosture: string;
  /**
   * True for a rule shared from a parent account (Cloudflare Organizations): read-only here,
   * evaluated before every local rule whatever its precedence, never written by tunnelplane.
   * Absent means false.
   */
  readOnly?: boolean;
  /** The account that owns a shared rule (Cloudflare's `source_account`); absent for own rules. */
  sourceAccount?: string;
}

/** Everything observed in one account by one run. */
export interface ObservedState {
  virtualNetworks: ObservedVirtualNetwork[];
  tunnels: ObservedTunnel[];
  tunnelRoutes: ObservedTunnelRoute[];
  hostnameRoutes: ObservedHostnameRoute[];
  splitTunnels: ObservedSplitTunnel[];
  /** Custom device profiles (the default profile is in `splitTunnels`). */
  deviceProfiles: ObservedDeviceProfile[];
  proxySettings: ProxySettingsSpec;
  networkPolicies: ObservedNetworkPolicy[];
  /**
   * The account's IPv4 initial resolved IP range as Cloudflare has it (canonical CIDR); absent
   * when the run did not read it (the account has no hostname routes, live or deleted).
   */
  initialResolvedIpv4?: string;
  /**
   * Device enrollment permissions: the reusable Access policies and the `warp` app. Absent when
   * the run did not read Access (the account has no enrollment rules, live or deleted).
   */
  enrollment?: ObservedEnrollment;
}

/** An account with nothing in it: every list empty, proxying off. Shared, so never mutate it. */
export const EMPTY_OBSERVED: Readonly<ObservedState> = {
  virtualNetworks: [],
  tunnels: [],
  tunnelRoutes: [],
  hostnameRoutes: [],
  splitTunnels: [],
  deviceProfiles: [],
  proxySettings: { tcp: false, udp: false, icmp: false },
  networkPolicies: [],
};

/** A reusable Access policy as Cloudflare lists it. */
export interface ObservedAccessPolicy {
  cloudflareId: string;
  /** Raw name; tunnelplane's marker ends it (Access policies have no description field). */
  name: string;
  decision: string;
  /** Rules as sent, one key each (`{email: {email}}`, `{email_domain: {domain}}`, …). */
  include: Record<string, unknown>[];
  exclude: Record<string, unknown>[];
  require: Record<string, unknown>[];
}

/** The account's device enrollment app (Access app of `type: "warp"`). */
export interface ObservedWarpApp {
  cloudflareId: string;
  name: string;
  /** Linked reusable policies in evaluation order. */
  policyIds: string[];
  /** Fields kept as they are on a full replace (PUT). */
  preserved: Record<string, unknown>;
}

/** Access state read for enrollment rules. */
export interface ObservedEnrollment {
  accessPolicies: ObservedAccessPolicy[];
  /** Null when the account has no `warp` app yet. */
  warpApp: ObservedWarpApp | null;
}

/**
 * A desired object about to be created (version 1, never synced), as the assertion guard and the
 * planner see it.
 */
export function newObject<K extends Kind>(
  kind: K,
  id: string,
  spec: SpecByKind[K],
): DesiredObject<K> {
  return {
    kind,
    id,
    version: 1,
    spec,
    cloudflareId: null,
    syncedVersion: null,
    createRequestedAtMs: null,
    deletedAtMs: null,
  };
}
