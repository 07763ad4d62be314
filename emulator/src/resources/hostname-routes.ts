/**
 * Private hostname routes (`zerotrust/routes/hostname`): a hostname served by a tunnel, with no
 * virtual network. Cloudflare's format rules: under 255 characters, leading and trailing dots
 * trimmed, at most one wildcard and only as the whole leading label, which is stored without
 * its `*.` (`*.apps.acme.internal` is kept as `apps.acme.internal`). The same stored hostname
 * twice among live routes is a 409; CIDR and hostname routes share the account's routes limit.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/networks/subresources/hostname_routes/
 */
import { ApiFailure, Fields, objectBody, paginate } from "../http";
import { assertBelowLimit } from "../limits";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { HostnameRouteRecord } from "../types";
import { byCreation, deletedFilter, existedAtFilter, liveRouteCount, param } from "./common";
import { assertLiveTunnel, MAX_ROUTE_COMMENT_LENGTH } from "./routes";

const BASE = "/accounts/:account_id/zerotrust/routes/hostname";
const CODE_INVALID = 1001;
/** Longest hostname accepted, in characters (Cloudflare: "under 255"). */
const MAX_HOSTNAME_LENGTH = 254;

/**
 * The stored form of a hostname, or 400/1001 naming the broken rule: dots trimmed, lower case,
 * a whole leading `*` label dropped; any other `*` refused.
 */
export function storedHostname(input: string): string {
  const invalid = (reason: string) =>
    new ApiFailure(400, CODE_INVALID, `Invalid hostname "${input}": ${reason}`);
  const trimmed = input
    .trim()
    .replace(/^\.+|\.+$/g, "")
    .toLowerCase();
  if (trimmed.length > MAX_HOSTNAME_LENGTH) {
    throw invalid(`must be under ${MAX_HOSTNAME_LENGTH + 1} characters`);
  }
  const labels = trimmed.split(".");
  if (trimmed === "" || labels.some((label) => label === "")) {
    throw invalid("must not be empty or have empty labels");
  }
  const wildcards = [...trimmed].filter((c) => c === "*").length;
  if (wildcards > 1) {
    throw invalid("at most one wildcard is allowed");
  }
  if (wildcards === 0) {
    return trimmed;
  }
  if (labels[0] !== "*" || labels.length < 2) {
    throw invalid("a wildcard must be the whole leading label (*.example.internal)");
  }
  return labels.slice(1).join(".");
}

/** The `HostnameRoute` wire shape: the record plus its tunnel's name. */
function toWire(account: AccountState, route: HostnameRouteRecord) {
  return {
    ...route,
    tun_type: "cfd_tunnel",
    tunnel_name: account.collections.tunnel.get(route.tunnel_id)?.name ?? "",
  };
}

function findRoute(account: AccountState, id: string): HostnameRouteRecord {
  const route = account.collections.hostname_route.get(id);
  if (route === undefined) {
    throw new ApiFailure(404, 1015, "Hostname route not found");
  }
  return route;
}

function findLiveRoute(account: AccountState, id: string): HostnameRouteRecord {
  const route = findRoute(account, id);
  if (route.deleted_at !== null) {
    throw new ApiFailure(404, 1015, "Hostname route not found or deleted");
  }
  return route;
}

function assertUnique(account: AccountState, hostname: string, exceptId?: string): void {
  for (const route of account.collections.hostname_route.values()) {
    if (route.deleted_at === null && route.hostname === hostname && route.id !== exceptId) {
      throw new ApiFailure(409, 1014, `You already have a route defined for ${hostname}`);
    }
  }
}

function create(context: Context) {
  const { account } = context;
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const hostname = storedHostname(fields.requiredString("hostname"));
  const tunnelId = fields.requiredString("tunnel_id");
  const comment = fields.string("comment", MAX_ROUTE_COMMENT_LENGTH) ?? "";
  assertLiveTunnel(account, tunnelId);
  assertUnique(account, hostname);
  assertBelowLimit(account, "routes", liveRouteCount(account));
  const route: HostnameRouteRecord = {
    id: crypto.randomUUID(),
    hostname,
    tunnel_id: tunnelId,
    comment,
    created_at: context.clock.next(),
    deleted_at: null,
  };
  account.put("hostname_route", route.id, route);
  return { result: toWire(account, route) };
}

function list(context: Context) {
  const { account, query } = context;
  const id = query.string("id");
  const hostnameText = query.string("hostname");
  const hostname = hostnameText === undefined ? undefined : storedHostname(hostnameText);
  const tunnelId = query.string("tunnel_id");
  const comment = query.string("comment");
  const deleted = deletedFilter(query);
  const existedAt = existedAtFilter(query);
  const matching = byCreation(account.collections.hostname_route.values()).filter(
    (route) =>
      deleted(route) &&
      (existedAt === undefined || existedAt(route)) &&
      (id === undefined || route.id === id) &&
      (hostname === undefined || route.hostname === hostname) &&
      (tunnelId === undefined || route.tunnel_id === tunnelId) &&
      (comment === undefined || route.comment === comment),
  );
  const { page, resultInfo } = paginate(matching, query);
  return { result: page.map((route) => toWire(account, route)), resultInfo };
}

function get(context: Context) {
  const { account } = context;
  return { result: toWire(account, findRoute(account, param(context.params, "route_id"))) };
}

function edit(context: Context) {
  const { account } = context;
  const route = findLiveRoute(account, param(context.params, "route_id"));
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const hostnameText = fields.string("hostname");
  const hostname = hostnameText === undefined ? route.hostname : storedHostname(hostnameText);
  const tunnelId = fields.string("tunnel_id") ?? route.tunnel_id;
  const comment = fields.string("comment", MAX_ROUTE_COMMENT_LENGTH) ?? route.comment;
  if (tunnelId !== route.tunnel_id) {
    assertLiveTunnel(account, tunnelId);
  }
  assertUnique(account, hostname, route.id);
  const updated: HostnameRouteRecord = { ...route, hostname, tunnel_id: tunnelId, comment };
  account.put("hostname_route", route.id, updated);
  return { result: toWire(account, updated) };
}

function remove(context: Context) {
  const { account } = context;
  const route = findLiveRoute(account, param(context.params, "route_id"));
  const deleted: HostnameRouteRecord = { ...route, deleted_at: context.clock.next() };
  account.put("hostname_route", route.id, deleted);
  return { result: toWire(account, deleted) };
}

/** Endpoints of `zerotrust/routes/hostname`. */
export const hostnameRouteRoutes: RouteDefinition[] = [
  { method: "POST", path: BASE, handler: create },
  { method: "GET", path: BASE, handler: list },
  { method: "GET", path: `${BASE}/:route_id`, handler: get },
  { method: "PATCH", path: `${BASE}/:route_id`, handler: edit },
  { method: "DELETE", path: `${BASE}/:route_id`, handler: remove },
];
