/** Helpers shared by the resource modules: stable ordering, soft-delete filters, lookups. */
import { ApiFailure, type Query } from "../http";
import { countLive } from "../limits";
import type { AccountState } from "../store";
import type { VirtualNetwork } from "../types";

/** Sorts by `created_at` then `id` (both ascending): the stable order of every list. */
export function byCreation<T extends { created_at: string; id: string }>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) =>
    a.created_at === b.created_at
      ? compareText(a.id, b.id)
      : compareText(a.created_at, b.created_at),
  );
}

/** Plain code-unit comparison (locale independent). */
export function compareText(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  return a < b ? -1 : 1;
}

/**
 * The three-valued `is_deleted` filter: `true` only deleted, `false` only live, absent both;
 * `false` shows both on a list told to (`list_deleted`).
 * @see https://developers.cloudflare.com/api/resources/zero_trust/subresources/networks/subresources/routes/methods/list/
 */
export function deletedFilter(query: Query): (item: { deleted_at: string | null }) => boolean {
  const isDeleted = query.boolean("is_deleted");
  if (isDeleted === undefined || (isDeleted === false && query.listDeleted)) {
    return () => true;
  }
  return (item) => (item.deleted_at !== null) === isDeleted;
}

/**
 * The `existed_at` filter: objects created at or before that instant and not deleted by then.
 * Undefined when the parameter is absent; 400/1001 when it is not a date.
 */
export function existedAtFilter(
  query: Query,
): ((item: { created_at: string; deleted_at: string | null }) => boolean) | undefined {
  const text = query.string("existed_at");
  if (text === undefined) {
    return undefined;
  }
  const atMs = Date.parse(text);
  if (Number.isNaN(atMs)) {
    throw new ApiFailure(400, 1001, "existed_at must be an RFC 3339 date-time");
  }
  return (item) =>
    Date.parse(item.created_at) <= atMs &&
    (item.deleted_at === null || Date.parse(item.deleted_at) > atMs);
}

/** The account's live default virtual network (there is always exactly one). */
export function defaultVnet(account: AccountState): VirtualNetwork {
  for (const vnet of account.collections.vnet.values()) {
    if (vnet.is_default_network && vnet.deleted_at === null) {
      return vnet;
    }
  }
  throw new Error(`account ${account.accountId} has no default virtual network`);
}

/** The path parameter, which the router guarantees. */
export function param(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined) {
    throw new Error(`route has no :${name} parameter`);
  }
  return value;
}

/** Live CIDR routes plus live hostname routes: Cloudflare counts both against one limit. */
export function liveRouteCount(account: AccountState): number {
  const live = (item: { deleted_at: string | null }) => item.deleted_at === null;
  return (
    countLive(account.collections.route.values(), live) +
    countLive(account.collections.hostname_route.values(), live)
  );
}
