/**
 * Tunnel routes found by address range: the routes whose network nests with a given one (contains
 * it, lies inside it or equals it, the only ways two CIDRs overlap), read through the range index
 * rather than by loading every route, so a route write costs the same at 100 routes or 10,000.
 */
import { and, between, eq, gte, inArray, isNull, sql } from "drizzle-orm";
import { enclosingFirstKeys, rangeKeysOf } from "../domain/routes/range-key";
import type { Db } from "./client";
import { fromObjectRow, rangeColumns, type StoredObject } from "./desired-objects.repo";
import { desiredObjects } from "./schema";

/** D1 binds at most 100 parameters per statement; the rest of the query takes 4. */
const KEYS_PER_QUERY = 90;

/** Rows filled per D1 batch when routes stored before the range columns get theirs. */
const FILL_BATCH = 100;

const routesOf = (accountId: string) =>
  and(eq(desiredObjects.accountId, accountId), eq(desiredObjects.kind, "tunnel_route"));

function missingRanges(db: Db, accountId: string) {
  return db
    .select({
      id: desiredObjects.id,
      version: desiredObjects.version,
      specJson: desiredObjects.specJson,
    })
    .from(desiredObjects)
    .where(and(routesOf(accountId), isNull(desiredObjects.rangeFirst)));
}

/**
 * Gives `missing` (routes stored before the range columns existed) their range keys. A row whose
 * version moved on meanwhile keeps its null for the next call, so a concurrent write never gets
 * the range of an older network.
 */
async function fillRanges(
  db: Db,
  accountId: string,
  missing: readonly { id: string; version: number; specJson: string }[],
): Promise<void> {
  for (let start = 0; start < missing.length; start += FILL_BATCH) {
    const updates = missing.slice(start, start + FILL_BATCH).map((row) =>
      db
        .update(desiredObjects)
        .set(rangeColumns("tunnel_route", JSON.parse(row.specJson)))
        .where(
          and(
            routesOf(accountId),
            eq(desiredObjects.id, row.id),
            eq(desiredObjects.version, row.version),
            isNull(desiredObjects.rangeFirst),
          ),
        ),
    );
    const [first, ...rest] = updates;
    if (first !== undefined) {
      await db.batch([first, ...rest]);
    }
  }
}

/**
 * The account's live routes, of every virtual network, whose network nests with `network` (a
 * valid CIDR), itself included when stored, in creation order (as `listAllObjects`): one
 * `listRoutesNestingWith`.
 */
export function listNestedRoutes(
  db: Db,
  accountId: string,
  network: string,
): Promise<StoredObject<"tunnel_route">[]> {
  return listRoutesNestingWith(db, accountId, [network]);
}

/** The statements finding the live routes that nest with `network`. */
function nestedStatements(db: Db, accountId: string, network: string) {
  const keys = rangeKeysOf(network);
  const live = and(routesOf(accountId), isNull(desiredObjects.deletedAtMs));
  const enclosing = enclosingFirstKeys(network);
  const inside = db
    .select()
    .from(desiredObjects)
    .where(and(live, between(desiredObjects.rangeFirst, keys.first, keys.last)));
  const around = [];
  for (let start = 0; start < enclosing.length; start += KEYS_PER_QUERY) {
    around.push(
      db
        .select()
        .from(desiredObjects)
        .where(
          and(
            live,
            inArray(desiredObjects.rangeFirst, enclosing.slice(start, start + KEYS_PER_QUERY)),
            gte(desiredObjects.rangeLast, keys.last),
          ),
        ),
    );
  }
  return [inside, ...around];
}

/**
 * The account's live routes, of every virtual network, that nest with one of `networks` (valid
 * CIDRs), each once, in creation order. One D1 batch: the routes without range keys yet (found
 * through the index, none once filled), then per network the routes starting inside it and
 * those starting where an enclosing network would and ending at or past its end. Routes without
 * keys get them, and the lookup runs once more (`isFirstLook` false: a row a concurrent write
 * moved on meanwhile is not chased further).
 */
export async function listRoutesNestingWith(
  db: Db,
  accountId: string,
  networks: readonly string[],
  isFirstLook = true,
): Promise<StoredObject<"tunnel_route">[]> {
  const [missing, ...results] = await db.batch([
    missingRanges(db, accountId),
    ...networks.flatMap((network) => nestedStatements(db, accountId, network)),
  ]);
  if (missing.length > 0 && isFirstLook) {
    await fillRanges(db, accountId, missing);
    return listRoutesNestingWith(db, accountId, networks, false);
  }
  const byId = new Map(results.flat().map((row) => [row.id, row]));
  return [...byId.values()]
    .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((row) => fromObjectRow<"tunnel_route">(row));
}

/**
 * The account's live routes, of every virtual network, that contain one of `addresses` (valid
 * IPv4 or IPv6 addresses), each once, in creation order: every route that can carry a
 * connection to them (`listRoutesNestingWith` their host networks).
 */
export function listRoutesCovering(
  db: Db,
  accountId: string,
  addresses: readonly string[],
): Promise<StoredObject<"tunnel_route">[]> {
  const hosts = [...new Set(addresses)].map((a) => `${a}/${a.includes(":") ? 128 : 32}`);
  return listRoutesNestingWith(db, accountId, hosts);
}

/**
 * The account's live routes that nest with another live route (of any virtual network: contain
 * it, lie inside it or equal it), in creation order: every route a duplicate or an overlap can
 * involve. Two CIDRs share an address only by nesting, so in the order of first addresses (ties
 * in any order) a route nests with another exactly when an earlier one ends at or past its start
 * or the next one starts inside it; SQLite's window functions find both in one pass along the
 * range index, without reading the other routes into the Worker.
 */
export async function listNestingRoutes(
  db: Db,
  accountId: string,
): Promise<StoredObject<"tunnel_route">[]> {
  const missing = await missingRanges(db, accountId);
  if (missing.length > 0) {
    await fillRanges(db, accountId, missing);
  }
  const rows = await db.all<{ id: string }>(sql`
    SELECT id FROM (
      SELECT id, range_first, range_last,
        MAX(range_last) OVER (
          ORDER BY range_first ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS outer_last,
        LEAD(range_first) OVER (ORDER BY range_first) AS next_first
      FROM desired_objects
      WHERE account_id = ${accountId} AND kind = 'tunnel_route' AND deleted_at_ms IS NULL
        AND range_first IS NOT NULL
    )
    WHERE outer_last >= range_first OR next_first <= range_last`);
  return listRoutesById(
    db,
    accountId,
    rows.map((row) => row.id),
  );
}

/** The live routes among `ids`, in creation order. */
async function listRoutesById(
  db: Db,
  accountId: string,
  ids: readonly string[],
): Promise<StoredObject<"tunnel_route">[]> {
  const chunks = [];
  for (let start = 0; start < ids.length; start += KEYS_PER_QUERY) {
    chunks.push(
      db
        .select()
        .from(desiredObjects)
        .where(
          and(
            routesOf(accountId),
            isNull(desiredObjects.deletedAtMs),
            inArray(desiredObjects.id, ids.slice(start, start + KEYS_PER_QUERY)),
          ),
        ),
    );
  }
  const rows = (await Promise.all(chunks)).flat();
  return rows
    .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((row) => fromObjectRow<"tunnel_route">(row));
}

/**
 * The virtual networks of the account's live routes (tunnelplane id, null for the default one),
 * in the order of each one's first route (creation order).
 */
export async function listRouteVirtualNetworkOrder(
  db: Db,
  accountId: string,
): Promise<(string | null)[]> {
  const rows = await db.all<{ vnet: string | null }>(sql`
    SELECT vnet FROM (
      SELECT json_extract(spec_json, '$.virtualNetworkId') AS vnet, created_at_ms, id,
        ROW_NUMBER() OVER (
          PARTITION BY json_extract(spec_json, '$.virtualNetworkId') ORDER BY created_at_ms, id
        ) AS n
      FROM desired_objects
      WHERE account_id = ${accountId} AND kind = 'tunnel_route' AND deleted_at_ms IS NULL
    )
    WHERE n = 1
    ORDER BY created_at_ms, id`);
  return rows.map((row) => row.vnet);
}
