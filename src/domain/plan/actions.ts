/**
 * Plans are lists of actions. An action says what to send to Cloudflare for one object (the
 * rendered, Cloudflare-shaped value), why, and which fields differ. References between objects
 * (a route's tunnel) are by tunnelplane key, resolved to Cloudflare ids when the action is applied,
 * because a referenced object may be created by an earlier action of the same run.
 */
import type { Kind, ProxySettingsSpec, SplitTunnelEntry, SplitTunnelMode } from "../model";

/** A virtual network as tunnelplane sends it. */
export interface RenderedVirtualNetwork {
  name: string;
  /** Comment with the ownership marker. */
  comment: string;
  isDefault: boolean;
}

/** A tunnel as tunnelplane sends it (always remotely managed). */
export interface RenderedTunnel {
  name: string;
}

/** A tunnel route as tunnelplane sends it. */
export interface RenderedTunnelRoute {
  /** Canonical CIDR. */
  network: string;
  /** tunnelplane key of the tunnel. */
  tunnelKey: string;
  /** tunnelplane key of the virtual network, or null for the account's default. */
  virtualNetworkKey: string | null;
  /** Comment with the ownership marker. */
  comment: string;
}

/** A hostname route as tunnelplane sends it. */
export interface RenderedHostnameRoute {
  /** Cloudflare's stored form, so a converged account compares equal. */
  hostname: string;
  /** tunnelplane key of the tunnel. */
  tunnelKey: string;
  /** Comment with the ownership marker. */
  comment: string;
}

/** A device profile's split tunnel list as tunnelplane sends it. */
export interface RenderedSplitTunnel {
  /** `default` for the default device profile. */
  profileId: string;
  mode: SplitTunnelMode;
  entries: SplitTunnelEntry[];
}

/** A custom device profile with its split tunnel list, as tunnelplane sends it. */
export interface RenderedDeviceProfile {
  name: string;
  /** Description with the ownership marker. */
  description: string;
  /** Whitespace-normalised wirefilter expression. */
  match: string;
  precedence: number;
  enabled: boolean;
  mode: SplitTunnelMode;
  /** The effective list in canonical order. */
  entries: SplitTunnelEntry[];
}

/**
 * A Gateway network policy as tunnelplane sends it. `action` and `filters` are plain strings so an
 * observed rule of another shape (an `l4_override`, a DNS rule) compares unequal, not mistyped.
 */
export interface RenderedNetworkPolicy {
  name: string;
  /** Description with the ownership marker. */
  description: string;
  /** `allow` or `block` when rendered by tunnelplane. */
  action: string;
  enabled: boolean;
  precedence: number;
  /** `["l4"]` when rendered by tunnelplane. */
  filters: string[];
  /** Whitespace-normalised wirefilter expressions. */
  traffic: string;
  identity: string;
  devicePosture: string;
}

/** A reusable Access policy tunnelplane sends for an enrollment rule. */
export interface RenderedEnrollmentPolicy {
  target: "access_policy";
  /** The rule's name with the ownership marker (Access policies have no description). */
  name: string;
  decision: string;
  /** Access rules, canonical order: emails, then email domains, then groups. */
  include: Record<string, unknown>[];
  /** Always empty when tunnelplane writes it; a hand-added rule is drift. */
  exclude: Record<string, unknown>[];
  require: Record<string, unknown>[];
}

/**
 * The policy links of the account's `warp` app (device enrollment permissions): links to
 * policies tunnelplane does not own are kept first, as found; then tunnelplane's, by rule key.
 */
export interface RenderedWarpApp {
  target: "warp_app";
  /** Cloudflare ids of linked policies tunnelplane does not own, in their order. */
  keptPolicyIds: string[];
  /** tunnelplane keys of the enrollment rules to link, resolved when applied. */
  policyKeys: string[];
  /** The app's other fields as observed, sent back unchanged (PUT replaces the whole app). */
  preserved: Record<string, unknown>;
}

/** What an enrollment-rule action writes: one Access policy, or the `warp` app's links. */
export type RenderedEnrollment = RenderedEnrollmentPolicy | RenderedWarpApp;

/** Maps each kind to its rendered (Cloudflare-shaped) value. */
export interface RenderedByKind {
  virtual_network: RenderedVirtualNetwork;
  tunnel: RenderedTunnel;
  tunnel_route: RenderedTunnelRoute;
  hostname_route: RenderedHostnameRoute;
  split_tunnel: RenderedSplitTunnel;
  device_profile: RenderedDeviceProfile;
  proxy_settings: ProxySettingsSpec;
  network_policy: RenderedNetworkPolicy;
  /** Private apps are planned as the network policies they derive; they have no action. */
  private_app: never;
  enrollment_rule: RenderedEnrollment;
  /** Assertions have no Cloudflare counterpart. */
  assertion: never;
}

/** One field that differs between observed and desired. */
export interface FieldDiff {
  field: string;
  observed: unknown;
  desired: unknown;
}

interface ActionBase<K extends Kind> {
  kind: K;
  /** tunnelplane id of the object (or of the owner named by an orphan's marker). */
  key: string;
  /** Why the action is needed, in one sentence. */
  reason: string;
  diff: FieldDiff[];
  /** True when the object was in sync at its current version: Cloudflare changed, not the user. */
  isDrift: boolean;
}

/** Create `desired` in Cloudflare. */
export interface CreateAction<K extends Kind = Kind> extends ActionBase<K> {
  op: "create";
  desired: RenderedByKind[K];
}

/** Change the Cloudflare object `cloudflareId` to `desired`. */
export interface UpdateAction<K extends Kind = Kind> extends ActionBase<K> {
  op: "update";
  cloudflareId: string;
  desired: RenderedByKind[K];
}

/** Delete the Cloudflare object `cloudflareId`, which tunnelplane owns. */
export interface DeleteAction<K extends Kind = Kind> extends ActionBase<K> {
  op: "delete";
  cloudflareId: string;
}

/** Any action on an object of kind K. */
export type Action<K extends Kind = Kind> = CreateAction<K> | UpdateAction<K> | DeleteAction<K>;

/** A Cloudflare object tunnelplane found but does not own; it is never changed. */
export interface UnmanagedObject {
  kind: Kind;
  cloudflareId: string;
  /** A human label: the name, or a route's network. */
  label: string;
}

/** A problem found while planning that does not stop the plan. */
export interface PlanWarning {
  code: string;
  kind: Kind;
  key: string;
  message: string;
}

/** A desired object matched with the Cloudflare object it owns. */
export interface Binding {
  kind: Kind;
  key: string;
  cloudflareId: string;
}

/** Output of `planAccount`. */
export interface Plan {
  /** In sending order: dependencies first, access-narrowing changes early (see orderForApply). */
  actions: Action[];
  /** Desired objects already matched in Cloudflare (ids the apply step resolves references by). */
  bindings: Binding[];
  unmanaged: UnmanagedObject[];
  warnings: PlanWarning[];
}
