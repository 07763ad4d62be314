/**
 * Cloudflare Tunnels (`cfd_tunnel`, and the all-types `tunnels` list). Names are unique among
 * live tunnels; a tunnel with active connections cannot be deleted; deleting a tunnel also
 * soft-deletes its routes. Health changes only through the `/__emulator` status control.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/tunnels/subresources/cloudflared/
 */
import { ApiFailure, Fields, objectBody, paginate } from "../http";
import { assertBelowLimit, countLive } from "../limits";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { TunnelRecord, TunnelStatus } from "../types";
import { byCreation, deletedFilter, existedAtFilter, param } from "./common";

const BASE = "/accounts/:account_id/cfd_tunnel";
const CODE_INVALID = 1001;
/** Smallest tunnel secret accepted, in bytes (inclusive). */
const MIN_SECRET_BYTES = 32;
/** The tunnel statuses, in Cloudflare's terms. */
export const TUNNEL_STATUSES: readonly TunnelStatus[] = ["inactive", "degraded", "healthy", "down"];

/** The `CloudflareTunnel` wire shape (the secret is never part of it). */
export function toTunnelResource(tunnel: TunnelRecord) {
  return {
    id: tunnel.id,
    account_tag: tunnel.account_tag,
    name: tunnel.name,
    config_src: tunnel.config_src,
    remote_config: tunnel.config_src === "cloudflare",
    status: tunnel.status,
    tun_type: "cfd_tunnel",
    created_at: tunnel.created_at,
    deleted_at: tunnel.deleted_at,
    conns_active_at: tunnel.conns_active_at,
    conns_inactive_at: tunnel.conns_inactive_at,
    connections: [],
    metadata: {},
  };
}

/** The `cloudflared tunnel run --token` value: base64 of `{"a","t","s"}` JSON. */
export function tunnelToken(tunnel: TunnelRecord): string {
  return btoa(JSON.stringify({ a: tunnel.account_tag, t: tunnel.id, s: tunnel.secret }));
}

/** True while the tunnel has connections (it then cannot be deleted). */
export function isConnected(tunnel: TunnelRecord): boolean {
  return tunnel.status === "healthy" || tunnel.status === "degraded";
}

/** Finds a tunnel, soft-deleted included; 404/1003 when unknown. */
export function findTunnel(account: AccountState, id: string): TunnelRecord {
  const tunnel = account.collections.tunnel.get(id);
  if (tunnel === undefined) {
    throw new ApiFailure(404, 1003, "Tunnel not found");
  }
  return tunnel;
}

function findLiveTunnel(account: AccountState, id: string): TunnelRecord {
  const tunnel = findTunnel(account, id);
  if (tunnel.deleted_at !== null) {
    throw new ApiFailure(404, 1003, "Tunnel not found");
  }
  return tunnel;
}

function assertNameFree(account: AccountState, name: string, exceptId?: string): void {
  for (const tunnel of account.collections.tunnel.values()) {
    if (tunnel.deleted_at === null && tunnel.name === name && tunnel.id !== exceptId) {
      throw new ApiFailure(409, 1013, "You already have a tunnel with this name");
    }
  }
}

function readSecret(fields: Fields): string | undefined {
  const secret = fields.string("tunnel_secret");
  if (secret === undefined) {
    return undefined;
  }
  let bytes: string;
  try {
    bytes = atob(secret);
  } catch {
    throw fields.failure("tunnel_secret must be base64");
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw fields.failure(`tunnel_secret must encode at least ${MIN_SECRET_BYTES} bytes`);
  }
  return secret;
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(MIN_SECRET_BYTES));
  return btoa(String.fromCharCode(...bytes));
}

function create(context: Context) {
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const name = fields.requiredString("name");
  const configSrc = fields.oneOf("config_src", ["local", "cloudflare"] as const) ?? "local";
  const secret = readSecret(fields) ?? randomSecret();
  assertNameFree(context.account, name);
  assertBelowLimit(
    context.account,
    "tunnels",
    countLive(context.account.collections.tunnel.values(), (tunnel) => tunnel.deleted_at === null),
  );
  const now = context.clock.next();
  const tunnel: TunnelRecord = {
    id: crypto.randomUUID(),
    account_tag: context.account.accountId,
    name,
    config_src: configSrc,
    status: "inactive",
    created_at: now,
    deleted_at: null,
    conns_active_at: null,
    conns_inactive_at: now,
    secret,
    connector_id: null,
  };
  context.account.put("tunnel", tunnel.id, tunnel);
  // No `token` or `credentials_file`: no schema of the create response has them; the token
  // comes from `GET …/{id}/token`.
  return { result: toTunnelResource(tunnel) };
}

function list(context: Context) {
  const { query } = context;
  const tunTypes = query.list("tun_types");
  const name = query.string("name");
  const uuid = query.string("uuid");
  const status = query.string("status");
  const includePrefix = query.string("include_prefix");
  const excludePrefix = query.string("exclude_prefix");
  const deleted = deletedFilter(query);
  const existedAt = existedAtFilter(query);
  const matching = byCreation(context.account.collections.tunnel.values()).filter(
    (tunnel) =>
      deleted(tunnel) &&
      (existedAt === undefined || existedAt(tunnel)) &&
      (tunTypes === undefined || tunTypes.includes("cfd_tunnel")) &&
      (name === undefined || tunnel.name === name) &&
      (uuid === undefined || tunnel.id === uuid) &&
      (status === undefined || tunnel.status === status) &&
      (includePrefix === undefined || tunnel.name.startsWith(includePrefix)) &&
      (excludePrefix === undefined || !tunnel.name.startsWith(excludePrefix)),
  );
  const { page, resultInfo } = paginate(matching, query);
  return { result: page.map(toTunnelResource), resultInfo };
}

function get(context: Context) {
  return {
    result: toTunnelResource(findTunnel(context.account, param(context.params, "tunnel_id"))),
  };
}

function edit(context: Context) {
  const tunnel = findLiveTunnel(context.account, param(context.params, "tunnel_id"));
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const name = fields.has("name") ? fields.requiredString("name") : tunnel.name;
  const secret = readSecret(fields) ?? tunnel.secret;
  assertNameFree(context.account, name, tunnel.id);
  const updated: TunnelRecord = { ...tunnel, name, secret };
  context.account.put("tunnel", tunnel.id, updated);
  return { result: toTunnelResource(updated) };
}

function remove(context: Context) {
  const tunnel = findLiveTunnel(context.account, param(context.params, "tunnel_id"));
  if (isConnected(tunnel)) {
    throw new ApiFailure(
      400,
      1022,
      "This tunnel has active connections. Stop cloudflared or clean up its connections first",
    );
  }
  const now = context.clock.next();
  const deleted: TunnelRecord = { ...tunnel, deleted_at: now };
  context.account.put("tunnel", tunnel.id, deleted);
  for (const route of context.account.collections.route.values()) {
    if (route.tunnel_id === tunnel.id && route.deleted_at === null) {
      context.account.put("route", route.id, { ...route, deleted_at: now });
    }
  }
  for (const route of context.account.collections.hostname_route.values()) {
    if (route.tunnel_id === tunnel.id && route.deleted_at === null) {
      context.account.put("hostname_route", route.id, { ...route, deleted_at: now });
    }
  }
  return { result: toTunnelResource(deleted) };
}

function token(context: Context) {
  return {
    result: tunnelToken(findLiveTunnel(context.account, param(context.params, "tunnel_id"))),
  };
}

/** The emulated connector: one cloudflared replica with four connections. */
function connectionsOf(tunnel: TunnelRecord) {
  if (!isConnected(tunnel) || tunnel.connector_id === null) {
    return [];
  }
  const connectorId = tunnel.connector_id;
  const openedAt = tunnel.conns_active_at;
  return [
    {
      id: connectorId,
      arch: "linux_amd64",
      config_version: 0,
      features: [],
      run_at: openedAt,
      version: "2025.4.0",
      conns: [0, 1, 2, 3].map((index) => ({
        id: `${connectorId.slice(0, -1)}${index}`,
        client_id: connectorId,
        client_version: "2025.4.0",
        colo_name: index % 2 === 0 ? "fra01" : "ams01",
        is_pending_reconnect: false,
        opened_at: openedAt,
        origin_ip: "192.0.2.10",
        uuid: `${connectorId.slice(0, -1)}${index}`,
      })),
    },
  ];
}

function connections(context: Context) {
  return {
    result: connectionsOf(findTunnel(context.account, param(context.params, "tunnel_id"))),
  };
}

function dropConnections(context: Context) {
  const tunnel = findLiveTunnel(context.account, param(context.params, "tunnel_id"));
  if (isConnected(tunnel)) {
    setTunnelStatus(context.account, tunnel, "down", context.clock.next());
  }
  return { result: null };
}

/**
 * Sets a tunnel's health as if cloudflared connected or went away (test control). `healthy`
 * and `degraded` give it one connector; `down` and `inactive` drop it.
 */
export function setTunnelStatus(
  account: AccountState,
  tunnel: TunnelRecord,
  status: TunnelStatus,
  now: string,
): TunnelRecord {
  const connected = status === "healthy" || status === "degraded";
  const updated: TunnelRecord = {
    ...tunnel,
    status,
    conns_active_at: connected ? (tunnel.conns_active_at ?? now) : tunnel.conns_active_at,
    conns_inactive_at: connected ? null : (tunnel.conns_inactive_at ?? now),
    connector_id: connected ? (tunnel.connector_id ?? crypto.randomUUID()) : null,
  };
  if (status === "inactive") {
    updated.conns_active_at = null;
  }
  account.put("tunnel", tunnel.id, updated);
  return updated;
}

/** Endpoints of `cfd_tunnel` and `tunnels`. */
export const tunnelRoutes: RouteDefinition[] = [
  { method: "POST", path: BASE, handler: create },
  { method: "GET", path: BASE, handler: list },
  { method: "GET", path: "/accounts/:account_id/tunnels", handler: list },
  { method: "GET", path: `${BASE}/:tunnel_id`, handler: get },
  { method: "PATCH", path: `${BASE}/:tunnel_id`, handler: edit },
  { method: "DELETE", path: `${BASE}/:tunnel_id`, handler: remove },
  { method: "GET", path: `${BASE}/:tunnel_id/token`, handler: token },
  { method: "GET", path: `${BASE}/:tunnel_id/connections`, handler: connections },
  { method: "DELETE", path: `${BASE}/:tunnel_id/connections`, handler: dropConnections },
];
