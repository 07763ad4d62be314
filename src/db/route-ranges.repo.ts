/**
 * Tunnel routes found by address range: the routes whose network nests with a given one (contains
 * it, lies inside it or equals it, the only ways two CIDRs overlap), read through the range index
 * rather than by loading every route, so a route write costs the same at 100 routes or 10,000.
 */
import { and, between, eq, gte, inArray, isNull } from "drizzle-orm";
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
 * valid CIDR), itself included when stored, in creation order (as `listAllObjects`). One D1
 * batch: the routes without range keys yet (found through the index, none once filled), the
 * routes starting inside `network`, and those starting where an enclosing network would and
 * ending at or past its end. Routes without keys get them, and the lookup runs once more
 * (`isFirstLook` false: a row a concurrent write moved on meanwhile is not chased further).
 */
export async function listNestedRoutes(
  db: Db,
  accountId: string,
  network: string,
  isFirstLook = true,
): Promise<StoredObject<"tunnel_route">[]> {
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
  const [missing, ...results] = await db.batch([missingRanges(db, accountId), inside, ...around]);
  if (missing.length > 0 && isFirstLook) {
    await fillRanges(db, accountId, missing);
    return listNestedRoutes(db, accountId, network, false);
  }
  const byId = new Map(results.flat().map((row) => [row.id, row]));
  return [...byId.values()]
    .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((row) => fromObjectRow<"tunnel_route">(row));
}

/**
 * The account's live routes, of every virtual network, that contain one of `addresses` (valid
 * IPv4 or IPv6 addresses), each once, in creation order: every route that can carry a
 * connection to them. One `listNestedRoutes` per distinct address.
 */
export async function listRoutesCovering(
  db: Db,
  accountId: string,
  addresses: readonly string[],
): Promise<StoredObject<"tunnel_route">[]> {
  const hosts = [...new Set(addresses)].map((a) => `${a}/${a.includes(":") ? 128 : 32}`);
  const found = await Promise.all(hosts.map((host) => listNestedRoutes(db, accountId, host)));
  const byId = new Map(found.flat().map((route) => [route.id, route]));
  return [...byId.values()].sort(
    (a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
