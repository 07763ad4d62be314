/**
 * The seed scenario (scripts/demo.mjs) as OpenAPI examples: the demo account, its tunnel `dc1`,
 * routes 10.0.0.0/8 and 172.31.0.0/16, the default split tunnel in Exclude mode with auto, the
 * proxy on, and the allow/block pair for db-prod (10.128.0.7). Keyed by component name; a body
 * whose schema is one of these components shows the seed object as its example.
 */

/** The demo account of the seed scenario. */
export const SEED_ACCOUNT_ID = "0123456789abcdef0123456789abcdef";
const TUNNEL_ID = "4f9d6a2e-3b1c-4e8a-9d7f-1a2b3c4d5e6f";
const ROUTE_ID = "7b3e1f0a-5c2d-4b6e-8f9a-0b1c2d3e4f5a";
const CREATED_AT = "2026-12-03T09:00:00.000Z";
const SYNCED_AT = "2026-12-03T09:01:00.000Z";

/** The `id`, `version`, timestamps and `status` every stored object carries. */
function envelope(id: string, cloudflareId: string) {
  return {
    id,
    version: 1,
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
    status: {
      state: "synced",
      cloudflare_id: cloudflareId,
      synced_version: 1,
      synced_at: SYNCED_AT,
      last_error: null,
      observed: null,
    },
  };
}

const tunnel = { name: "dc1" };
const route = { network: "10.0.0.0/8", tunnel_id: TUNNEL_ID, comment: "data centre" };
const allowPolicy = {
  name: "Allow example.com to db-prod",
  action: "allow",
  precedence: 1000,
  destinations: ["10.128.0.7"],
  email_regex: ".*@example.com",
};
const proxy = { tcp: true, udp: true, icmp: true };
const limits = {
  routes: 1000,
  network_policies: 500,
  private_apps: 500,
  tunnels: 1000,
  virtual_networks: 1000,
  split_tunnel_entries: 1000,
  selector_units: 25000,
  work_units: 4000000,
  event_subscriptions: 20,
};

/** Component name -> the seed scenario's object in that shape. */
export const SEED_EXAMPLES: Record<string, unknown> = {
  AccountCreate: {
    account_id: SEED_ACCOUNT_ID,
    name: "Demo",
    api_token: "demo-token-for-the-local-emulator-0123456789",
    mode: "enforce",
    reconcile_interval_s: 60,
  },
  Account: {
    account_id: SEED_ACCOUNT_ID,
    name: "Demo",
    mode: "enforce",
    reconcile_interval_s: 60,
    next_reconcile_at: "2026-12-03T09:02:00.000Z",
    team_domain: null,
    limits,
    api_budget_share: null,
    token_problems: [],
    initial_resolved_ipv4: "172.64.128.0/20",
    version: 1,
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
  },
  TunnelInput: tunnel,
  Tunnel: { ...envelope(TUNNEL_ID, "c1a2b3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"), ...tunnel },
  TunnelRouteInput: route,
  TunnelRoute: {
    ...envelope(ROUTE_ID, "d2b3c4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"),
    ...route,
    virtual_network_id: null,
  },
  NetworkPolicyInput: allowPolicy,
  NetworkPolicy: {
    ...envelope("2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d", "e3c4d5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f"),
    ...allowPolicy,
    enabled: true,
    ports: [],
    protocols: [],
    emails: [],
    groups: [],
    device_posture_ids: [],
    description: "",
    traffic: "net.dst.ip in {10.128.0.7}",
    identity: 'identity.email matches ".*@example.com"',
    device_posture: "",
  },
  SplitTunnelInput: { mode: "exclude", auto: true },
  ProxySettingsInput: proxy,
  ProxySettings: {
    ...envelope("5e7a9c1d-3f5b-4d7e-8a9c-1b3d5f7a9c1e", "device-settings"),
    ...proxy,
  },
};
