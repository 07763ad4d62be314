/**
 * Tunnel routes (`teamnet/routes`). Networks are stored in canonical form; the same network
 * twice among the live routes of one vnet is a 409/1014, whatever the tunnel; a route left
 * without a vnet lands in the account's default vnet.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/networks/subresources/routes/
 */
import { contains, containsAddress, type Network, parseAddress, parseNetwork } from "../cidr";
import { ApiFailure, Fields, objectBody, paginate, type Query } from "../http";
import { assertBelowLimit } from "../limits";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { RouteRecord } from "../types";
import {
  byCreation,
  defaultVnet,
  deletedFilter,
  existedAtFilter,
  liveRouteCount,
  param,
} from "./common";

const BASE = "/accounts/:account_id/teamnet/routes";
const CODE_INVALID = 1001;
/** `comment` maximum, in characters (inclusive). */
export const MAX_ROUTE_COMMENT_LENGTH = 100;

/** Parses a network or fails 400/1001 with Cloudflare's "Could not parse input" wording. */
export function parseNetworkOrFail(input: string, field: string): Network {
  const network = parseNetwork(input);
  if (network === undefined) {
    throw new ApiFailure(
      400,
      CODE_INVALID,
      `Could not parse input: invalid address "${input}" in ${field}`,
    );
  }
  return network;
}

/** The `Teamnet` wire shape: the route plus tunnel and vnet names. */
export function toTeamnet(account: AccountState, route: RouteRecord) {
  return {
    ...route,
    tun_type: "cfd_tunnel",
    tunnel_name: account.collections.tunnel.get(route.tunnel_id)?.name ?? "",
    virtual_network_name: account.collections.vnet.get(route.virtual_network_id)?.name ?? "",
  };
}

function findRoute(account: AccountState, id: string): RouteRecord {
  const route = account.collections.route.get(id);
  if (route === undefined) {
    throw new ApiFailure(404, 1015, "Route not found");
  }
  return route;
}

function findLiveRoute(account: AccountState, id: string): RouteRecord {
  const route = findRoute(account, id);
  if (route.deleted_at !== null) {
    throw new ApiFailure(
      404,
      1015,
      "You are trying to modify the route for a network that isn't routed. Please check the network and try again",
    );
  }
  return route;
}

/** Throws 400/1003 unless the tunnel exists and is not deleted. */
export function assertLiveTunnel(account: AccountState, tunnelId: string): void {
  const tunnel = account.collections.tunnel.get(tunnelId);
  if (tunnel === undefined || tunnel.deleted_at !== null) {
    throw new ApiFailure(400, 1003, `Tunnel not found or deleted: ${tunnelId}`);
  }
}

function assertLiveVnet(account: AccountState, vnetId: string): void {
  const vnet = account.collections.vnet.get(vnetId);
  if (vnet === undefined || vnet.deleted_at !== null) {
    throw new ApiFailure(400, 1004, `Virtual network not found or deleted: ${vnetId}`);
  }
}

function assertUnique(account: AccountState, network: string, vnetId: string, exceptId?: string) {
  for (const route of account.collections.route.values()) {
    if (
      route.deleted_at === null &&
      route.network === network &&
      route.virtual_network_id === vnetId &&
      route.id !== exceptId
    ) {
      throw new ApiFailure(409, 1014, "You already have a route defined for this exact IP subnet");
    }
  }
}

function create(context: Context) {
  const { account } = context;
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const network = parseNetworkOrFail(fields.requiredString("network"), "network");
  const tunnelId = fields.requiredString("tunnel_id");
  const comment = fields.string("comment", MAX_ROUTE_COMMENT_LENGTH) ?? "";
  const vnetId = fields.string("virtual_network_id") ?? defaultVnet(account).id;
  assertLiveTunnel(account, tunnelId);
  assertLiveVnet(account, vnetId);
  assertUnique(account, network.text, vnetId);
  assertBelowLimit(account, "routes", liveRouteCount(account));
  const route: RouteRecord = {
    id: crypto.randomUUID(),
    network: network.text,
    tunnel_id: tunnelId,
    virtual_network_id: vnetId,
    comment,
    created_at: context.clock.next(),
    deleted_at: null,
  };
  account.put("route", route.id, route);
  return { result: route };
}

function networkFilter(query: Query, name: string): Network | undefined {
  const text = query.string(name);
  return text === undefined ? undefined : parseNetworkOrFail(text, name);
}

function list(context: Context) {
  const { account, query } = context;
  const subset = networkFilter(query, "network_subset");
  const superset = networkFilter(query, "network_superset");
  const tunnelId = query.string("tunnel_id");
  const vnetId = query.string("virtual_network_id");
  const routeId = query.string("route_id");
  const comment = query.string("comment");
  const tunTypes = query.list("tun_types");
  const deleted = deletedFilter(query);
  const existedAt = existedAtFilter(query);
  const matching = byCreation(account.collections.route.values()).filter((route) => {
    if (!deleted(route) || (existedAt !== undefined && !existedAt(route))) {
      return false;
    }
    if (
      (tunnelId !== undefined && route.tunnel_id !== tunnelId) ||
      (vnetId !== undefined && route.virtual_network_id !== vnetId) ||
      (routeId !== undefined && route.id !== routeId) ||
      (comment !== undefined && route.comment !== comment) ||
      (tunTypes !== undefined && !tunTypes.includes("cfd_tunnel"))
    ) {
      return false;
    }
    if (subset === undefined && superset === undefined) {
      return true;
    }
    const network = parseNetworkOrFail(route.network, "network");
    return (
      (subset === undefined || contains(subset, network)) &&
      (superset === undefined || contains(network, superset))
    );
  });
  const { page, resultInfo } = paginate(matching, query);
  return { result: page.map((route) => toTeamnet(account, route)), resultInfo };
}

function get(context: Context) {
  return { result: findRoute(context.account, param(context.params, "route_id")) };
}

function edit(context: Context) {
  const { account } = context;
  const route = findLiveRoute(account, param(context.params, "route_id"));
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const networkText = fields.string("network");
  const network =
    networkText === undefined ? route.network : parseNetworkOrFail(networkText, "network").text;
  const tunnelId = fields.string("tunnel_id") ?? route.tunnel_id;
  const vnetId = fields.string("virtual_network_id") ?? route.virtual_network_id;
  const comment = fields.string("comment", MAX_ROUTE_COMMENT_LENGTH) ?? route.comment;
  if (tunnelId !== route.tunnel_id) {
    assertLiveTunnel(account, tunnelId);
  }
  if (vnetId !== route.virtual_network_id) {
    assertLiveVnet(account, vnetId);
  }
  assertUnique(account, network, vnetId, route.id);
  const updated: RouteRecord = {
    ...route,
    network,
    tunnel_id: tunnelId,
    virtual_network_id: vnetId,
    comment,
  };
  account.put("route", route.id, updated);
  return { result: updated };
}

function remove(context: Context) {
  const route = findLiveRoute(context.account, param(context.params, "route_id"));
  const deleted: RouteRecord = { ...route, deleted_at: context.clock.next() };
  context.account.put("route", route.id, deleted);
  return { result: deleted };
}

/**
 * The live route of the vnet (given, else the default) with the longest prefix containing the
 * IP; 404/1016 when none does.
 */
function byIp(context: Context) {
  const { account, query } = context;
  const ipText = param(context.params, "ip");
  const address = parseAddress(ipText);
  if (address === undefined) {
    throw new ApiFailure(400, CODE_INVALID, `Could not parse input: invalid address "${ipText}"`);
  }
  const vnetId = query.string("virtual_network_id") ?? defaultVnet(account).id;
  let best: { route: RouteRecord; prefixLength: number } | undefined;
  for (const route of byCreation(account.collections.route.values())) {
    if (route.deleted_at !== null || route.virtual_network_id !== vnetId) {
      continue;
    }
    const network = parseNetworkOrFail(route.network, "network");
    if (
      containsAddress(network, address) &&
      (best === undefined || network.prefixLength > best.prefixLength)
    ) {
      best = { route, prefixLength: network.prefixLength };
    }
  }
  if (best === undefined) {
    throw new ApiFailure(404, 1016, `No route found for IP ${ipText}`);
  }
  return { result: toTeamnet(account, best.route) };
}

/** Endpoints of `teamnet/routes`. */
export const routeRoutes: RouteDefinition[] = [
  { method: "POST", path: BASE, handler: create },
  { method: "GET", path: BASE, handler: list },
  { method: "GET", path: `${BASE}/ip/:ip`, handler: byIp },
  { method: "GET", path: `${BASE}/:route_id`, handler: get },
  { method: "PATCH", path: `${BASE}/:route_id`, handler: edit },
  { method: "DELETE", path: `${BASE}/:route_id`, handler: remove },
];
