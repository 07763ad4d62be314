/**
 * Virtual networks (`teamnet/virtual_networks`). Invariant: every account has exactly one live
 * default vnet; promoting one demotes the others, and the default cannot be deleted.
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/networks/subresources/virtual_networks/
 */
import { ApiFailure, Fields, objectBody } from "../http";
import { assertBelowLimit, countLive } from "../limits";
import type { Context, RouteDefinition } from "../router";
import type { AccountState } from "../store";
import type { VirtualNetwork } from "../types";
import { byCreation, deletedFilter, param } from "./common";

const BASE = "/accounts/:account_id/teamnet/virtual_networks";
const CODE_INVALID = 1001;
/** Name maximum (inclusive), from the `Teamnet.virtual_network_name` schema. */
const MAX_NAME_LENGTH = 256;
/** Comment maximum (inclusive): `maxLength: 256` of the vnet `comment` schema. */
const MAX_COMMENT_LENGTH = 256;

/** Finds a vnet by id, soft-deleted ones included; 404/1004 when unknown. */
export function findVnet(account: AccountState, id: string): VirtualNetwork {
  const vnet = account.collections.vnet.get(id);
  if (vnet === undefined) {
    throw new ApiFailure(404, 1004, "Virtual network not found");
  }
  return vnet;
}

function findLiveVnet(account: AccountState, id: string): VirtualNetwork {
  const vnet = findVnet(account, id);
  if (vnet.deleted_at !== null) {
    throw new ApiFailure(404, 1004, "Virtual network not found");
  }
  return vnet;
}

function assertNameFree(account: AccountState, name: string, exceptId?: string): void {
  for (const vnet of account.collections.vnet.values()) {
    if (vnet.deleted_at === null && vnet.name === name && vnet.id !== exceptId) {
      throw new ApiFailure(409, 1012, "You already have a virtual network with this name");
    }
  }
}

function promote(account: AccountState, id: string): void {
  for (const vnet of account.collections.vnet.values()) {
    if (vnet.id !== id && vnet.is_default_network) {
      account.put("vnet", vnet.id, { ...vnet, is_default_network: false });
    }
  }
}

function defaultFlag(fields: Fields): boolean | undefined {
  return fields.boolean("is_default_network") ?? fields.boolean("is_default");
}

function create(context: Context) {
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const name = fields.requiredString("name", MAX_NAME_LENGTH);
  const comment = fields.string("comment", MAX_COMMENT_LENGTH) ?? "";
  const isDefault = defaultFlag(fields) ?? false;
  assertNameFree(context.account, name);
  assertBelowLimit(
    context.account,
    "virtual_networks",
    countLive(context.account.collections.vnet.values(), (vnet) => vnet.deleted_at === null),
  );
  const vnet: VirtualNetwork = {
    id: crypto.randomUUID(),
    name,
    comment,
    is_default_network: isDefault,
    created_at: context.clock.next(),
    deleted_at: null,
  };
  context.account.put("vnet", vnet.id, vnet);
  if (isDefault) {
    promote(context.account, vnet.id);
  }
  return { result: vnet };
}

function list(context: Context) {
  const { query } = context;
  const id = query.string("id");
  const name = query.string("name");
  const isDefault = query.boolean("is_default_network") ?? query.boolean("is_default");
  const deleted = deletedFilter(query);
  const result = byCreation(context.account.collections.vnet.values()).filter(
    (vnet) =>
      deleted(vnet) &&
      (id === undefined || vnet.id === id) &&
      (name === undefined || vnet.name === name) &&
      (isDefault === undefined || vnet.is_default_network === isDefault),
  );
  return { result };
}

function get(context: Context) {
  return { result: findVnet(context.account, param(context.params, "vnet_id")) };
}

function edit(context: Context) {
  const vnet = findLiveVnet(context.account, param(context.params, "vnet_id"));
  const fields = new Fields(objectBody(context.body), CODE_INVALID);
  const name = fields.has("name") ? fields.requiredString("name", MAX_NAME_LENGTH) : vnet.name;
  const comment = fields.string("comment", MAX_COMMENT_LENGTH) ?? vnet.comment;
  if (fields.has("is_default")) {
    throw fields.failure("is_default is not a field of this request; use is_default_network");
  }
  const isDefault = fields.boolean("is_default_network");
  if (isDefault === false && vnet.is_default_network) {
    throw new ApiFailure(
      400,
      1051,
      "Cannot unset the default virtual network: make another virtual network the default",
    );
  }
  assertNameFree(context.account, name, vnet.id);
  const updated: VirtualNetwork = {
    ...vnet,
    name,
    comment,
    is_default_network: isDefault ?? vnet.is_default_network,
  };
  context.account.put("vnet", vnet.id, updated);
  if (updated.is_default_network) {
    promote(context.account, vnet.id);
  }
  return { result: updated };
}

function remove(context: Context) {
  const vnet = findLiveVnet(context.account, param(context.params, "vnet_id"));
  if (vnet.is_default_network) {
    throw new ApiFailure(
      400,
      1049,
      "Cannot delete the Virtual Network because: it is the default virtual network",
    );
  }
  for (const route of context.account.collections.route.values()) {
    if (route.deleted_at === null && route.virtual_network_id === vnet.id) {
      throw new ApiFailure(
        400,
        1050,
        "Cannot delete the Virtual Network because: it is used by one or more routes",
      );
    }
  }
  const deleted: VirtualNetwork = { ...vnet, deleted_at: context.clock.next() };
  context.account.put("vnet", vnet.id, deleted);
  return { result: deleted };
}

/** Endpoints of `teamnet/virtual_networks`. */
export const virtualNetworkRoutes: RouteDefinition[] = [
  { method: "POST", path: BASE, handler: create },
  { method: "GET", path: BASE, handler: list },
  { method: "GET", path: `${BASE}/:vnet_id`, handler: get },
  { method: "PATCH", path: `${BASE}/:vnet_id`, handler: edit },
  { method: "DELETE", path: `${BASE}/:vnet_id`, handler: remove },
];
