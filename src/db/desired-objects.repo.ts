/**
 * Desired objects of every kind. Each write bumps `version`, marks the object pending and appends
 * an audit-log entry in the same D1 batch; updates are conditional on the version read (optimistic
 * concurrency). A delete leaves a tombstone until a run has removed the Cloudflare object.
 */
import { and, asc, count, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import {
  type DesiredObject,
  type DesiredState,
  KINDS,
  type Kind,
  type ObservedNetworkPolicy,
  type SpecByKind,
  type SyncState,
} from "../domain/model";
import { rangeKeysOf } from "../domain/routes/range-key";
import { type Actor, newAuditRow } from "./audit-log.repo";
import type { Db } from "./client";
import { insertIfLanded } from "./guarded-insert";
import type { CursorPosition } from "./pagination";
import { accounts, auditLog, desiredObjects } from "./schema";

/** A stored desired object with its reconciliation status. */
export interface StoredObject<K extends Kind = Kind> extends DesiredObject<K> {
  syncState: SyncState;
  lastError: string | null;
  syncedAtMs: number | null;
  /** What the last run observed about it (kind-specific), or null. */
  observed: Record<string, unknown> | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export type { Actor } from "./audit-log.repo";

type Row = typeof desiredObjects.$inferSelect;

/** The range columns of an object: a tunnel route's range keys, nulls for other kinds. */
export function rangeColumns<K extends Kind>(
  kind: K,
  spec: SpecByKind[K],
): Pick<Row, "rangeFirst" | "rangeLast"> {
  if (kind !== "tunnel_route") {
    return { rangeFirst: null, rangeLast: null };
  }
  const keys = rangeKeysOf((spec as SpecByKind["tunnel_route"]).network);
  return { rangeFirst: keys.first, rangeLast: keys.last };
}

/** A row as a stored object (spec and observed JSON parsed). */
export function fromObjectRow<K extends Kind>(row: Row): StoredObject<K> {
  return {
    kind: row.kind as K,
    id: row.id,
    version: row.version,
    spec: JSON.parse(row.specJson) as SpecByKind[K],
    cloudflareId: row.cloudflareId,
    syncedVersion: row.syncedVersion,
    createRequestedAtMs: row.createRequestedAtMs,
    deletedAtMs: row.deletedAtMs,
    syncState: row.syncState,
    lastError: row.lastError,
    syncedAtMs: row.syncedAtMs,
    observed: row.observedJson === null ? null : JSON.parse(row.observedJson),
    createdAtMs: row.createdAtMs,
    updatedAtMs: row.updatedAtMs,
  };
}

const key = (accountId: string, kind: Kind, id: string) =>
  and(
    eq(desiredObjects.accountId, accountId),
    eq(desiredObjects.kind, kind),
    eq(desiredObjects.id, id),
  );

function auditEntry(
  accountId: string,
  actor: Actor,
  action: string,
  kind: Kind,
  objectId: string,
  before: unknown,
  after: unknown,
  nowMs: number,
) {
  return newAuditRow({
    scope: accountId,
    actor,
    action,
    kind,
    objectId,
    before,
    after,
    atMs: nowMs,
  });
}

/** The audit insert of a write to the object, landing only if that write did. */
function auditObjectWrite(
  db: Db,
  accountId: string,
  kind: Kind,
  id: string,
  version: number,
  entry: ReturnType<typeof auditEntry>,
) {
  return insertIfLanded(
    db,
    auditLog,
    entry,
    desiredObjects,
    and(
      key(accountId, kind, id),
      eq(desiredObjects.version, version),
      eq(desiredObjects.updatedAtMs, entry.atMs),
    ),
  );
}

/** One live object, or undefined (missing, tombstoned, or another account's). */
export async function getObject<K extends Kind>(
  db: Db,
  accountId: string,
  kind: K,
  id: string,
): Promise<StoredObject<K> | undefined> {
  const rows = await db
    .select()
    .from(desiredObjects)
    .where(and(key(accountId, kind, id), isNull(desiredObjects.deletedAtMs)));
  return rows[0] === undefined ? undefined : fromObjectRow<K>(rows[0]);
}

/** Live objects of one kind in creation order, after `after`, at most `limit` when given. */
async function selectLive<K extends Kind>(
  db: Db,
  accountId: string,
  kind: K,
  after: CursorPosition | undefined,
  limit: number | undefined,
): Promise<StoredObject<K>[]> {
  const position =
    after === undefined
      ? undefined
      : or(
          gt(desiredObjects.createdAtMs, after.atMs),
          and(eq(desiredObjects.createdAtMs, after.atMs), gt(desiredObjects.id, after.id)),
        );
  const query = db
    .select()
    .from(desiredObjects)
    .where(
      and(
        eq(desiredObjects.accountId, accountId),
        eq(desiredObjects.kind, kind),
        isNull(desiredObjects.deletedAtMs),
        position,
      ),
    )
    .orderBy(asc(desiredObjects.createdAtMs), asc(desiredObjects.id));
  const rows = await (limit === undefined ? query : query.limit(limit));
  return rows.map((row) => fromObjectRow<K>(row));
}

/** How many live objects of one kind the account holds. */
export async function countObjects(db: Db, accountId: string, kind: Kind): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(desiredObjects)
    .where(
      and(
        eq(desiredObjects.accountId, accountId),
        eq(desiredObjects.kind, kind),
        isNull(desiredObjects.deletedAtMs),
      ),
    );
  return rows[0]?.n ?? 0;
}

/** A page of live objects of one kind in creation order, `limit + 1` rows for paging. */
export function listObjects<K extends Kind>(
  db: Db,
  accountId: string,
  kind: K,
  after: CursorPosition | undefined,
  limit: number,
): Promise<StoredObject<K>[]> {
  return selectLive(db, accountId, kind, after, limit + 1);
}

/**
 * Inserts a new object (version 1, pending) and its audit entry.
 * @throws the D1 UNIQUE violation when `naturalKey` is taken (see isUniqueViolation).
 */
export async function insertObject<K extends Kind>(
  db: Db,
  accountId: string,
  input: {
    kind: K;
    id: string;
    spec: SpecByKind[K];
    naturalKey: string | null;
    /** The Cloudflare object it adopts (import), whose marker the next run adds. */
    cloudflareId?: string;
  },
  actor: Actor,
  nowMs: number,
): Promise<StoredObject<K>> {
  const row: Row = {
    accountId,
    kind: input.kind,
    id: input.id,
    naturalKey: input.naturalKey,
    specJson: JSON.stringify(input.spec),
    version: 1,
    syncState: "pending",
    cloudflareId: input.cloudflareId ?? null,
    lastError: null,
    syncedVersion: null,
    syncedAtMs: null,
    createRequestedAtMs: null,
    observedJson: null,
    deletedAtMs: null,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
    ...rangeColumns(input.kind, input.spec),
  };
  await db.batch([
    db.insert(desiredObjects).values(row),
    db
      .insert(auditLog)
      .values(
        auditEntry(accountId, actor, "create", input.kind, input.id, undefined, input.spec, nowMs),
      ),
  ]);
  return fromObjectRow<K>(row);
}

/**
 * Writes `changes` as the next version of a live object still at `current.version` (marked
 * pending), with its audit entry, in one batch.
 * @returns the written row, or undefined when the object is missing or its version moved on.
 */
async function writeNextVersion(
  db: Db,
  accountId: string,
  current: StoredObject,
  changes: Partial<Row>,
  audit: { actor: Actor; action: "update" | "delete"; after: unknown },
  nowMs: number,
): Promise<Row | undefined> {
  const entry = auditEntry(
    accountId,
    audit.actor,
    audit.action,
    current.kind,
    current.id,
    current.spec,
    audit.after,
    nowMs,
  );
  const [rows] = await db.batch([
    db
      .update(desiredObjects)
      .set({ ...changes, version: current.version + 1, syncState: "pending", updatedAtMs: nowMs })
      .where(
        and(
          key(accountId, current.kind, current.id),
          eq(desiredObjects.version, current.version),
          isNull(desiredObjects.deletedAtMs),
        ),
      )
      .returning(),
    auditObjectWrite(db, accountId, current.kind, current.id, current.version + 1, entry),
  ]);
  return rows[0];
}

/**
 * Replaces the spec of a live object whose version is `expectedVersion`.
 * @returns the updated object, or undefined when it is missing or its version moved on.
 * @throws the D1 UNIQUE violation when `naturalKey` is taken by another object.
 */
export async function updateObject<K extends Kind>(
  db: Db,
  accountId: string,
  current: StoredObject<K>,
  input: { spec: SpecByKind[K]; naturalKey: string | null },
  actor: Actor,
  nowMs: number,
): Promise<StoredObject<K> | undefined> {
  const row = await writeNextVersion(
    db,
    accountId,
    current,
    {
      specJson: JSON.stringify(input.spec),
      naturalKey: input.naturalKey,
      ...rangeColumns(current.kind, input.spec),
    },
    { actor, action: "update", after: input.spec },
    nowMs,
  );
  return row === undefined ? undefined : fromObjectRow<K>(row);
}

/**
 * Tombstones a live object whose version is `expectedVersion`: it disappears from the API at once
 * and its Cloudflare counterpart is deleted by the next run.
 * @returns false when it is missing or its version moved on.
 */
export async function deleteObject(
  db: Db,
  accountId: string,
  current: StoredObject,
  actor: Actor,
  nowMs: number,
): Promise<boolean> {
  const row = await writeNextVersion(
    db,
    accountId,
    current,
    { deletedAtMs: nowMs, naturalKey: null },
    { actor, action: "delete", after: undefined },
    nowMs,
  );
  return row !== undefined;
}

/** Every kind but tunnel routes, the one kind an account holds by the thousand. */
const KINDS_BUT_ROUTES = KINDS.filter((kind) => kind !== "tunnel_route");

/**
 * The account's whole desired state, tombstones included, with its team domain (null when the
 * account has none or does not exist), initial resolved range and last observed fallback
 * domains, for the planner. Without `withRoutes` it holds no tunnel route (for callers that read
 * the routes they need by range).
 */
export async function loadDesiredState(
  db: Db,
  accountId: string,
  withRoutes = true,
): Promise<DesiredState> {
  const [rows, account] = await Promise.all([
    db
      .select()
      .from(desiredObjects)
      .where(
        withRoutes
          ? eq(desiredObjects.accountId, accountId)
          : and(
              eq(desiredObjects.accountId, accountId),
              inArray(desiredObjects.kind, KINDS_BUT_ROUTES),
            ),
      )
      .orderBy(asc(desiredObjects.createdAtMs), asc(desiredObjects.id)),
    db
      .select({
        teamDomain: accounts.teamDomain,
        sharedRulesJson: accounts.sharedRulesJson,
        sharedRulesObservedAtMs: accounts.sharedRulesObservedAtMs,
        initialResolvedIpv4: accounts.initialResolvedIpv4,
        fallbackDomainsJson: accounts.fallbackDomainsJson,
      })
      .from(accounts)
      .where(eq(accounts.id, accountId)),
  ]);
  const sharedRulesJson = account[0]?.sharedRulesJson ?? null;
  const fallbackDomainsJson = account[0]?.fallbackDomainsJson ?? null;
  const sharedRulesObservedAtMs = account[0]?.sharedRulesObservedAtMs ?? null;
  return {
    accountId,
    objects: rows.map((row) => fromObjectRow(row)),
    teamDomain: account[0]?.teamDomain ?? null,
    ...(sharedRulesJson === null
      ? {}
      : { sharedRules: JSON.parse(sharedRulesJson) as ObservedNetworkPolicy[] }),
    ...(sharedRulesObservedAtMs === null ? {} : { sharedRulesObservedAtMs }),
    ...(account[0] === undefined ? {} : { initialResolvedIpv4: account[0].initialResolvedIpv4 }),
    ...(fallbackDomainsJson === null
      ? {}
      : { fallbackDomains: JSON.parse(fallbackDomainsJson) as Record<string, string[]> }),
  };
}

/** Every live object of one kind in the account, in creation order (for reference checks). */
export function listAllObjects<K extends Kind>(
  db: Db,
  accountId: string,
  kind: K,
): Promise<StoredObject<K>[]> {
  return selectLive(db, accountId, kind, undefined, undefined);
}

/**
 * The id of the account's first live virtual network (creation order) marked `isDefault`, or
 * null: what `listAllObjects(…, "virtual_network").find((v) => v.spec.isDefault)` finds, without
 * reading every virtual network.
 */
export async function getDefaultVirtualNetworkId(
  db: Db,
  accountId: string,
): Promise<string | null> {
  const rows = await db
    .select({ id: desiredObjects.id })
    .from(desiredObjects)
    .where(
      and(
        eq(desiredObjects.accountId, accountId),
        eq(desiredObjects.kind, "virtual_network"),
        isNull(desiredObjects.deletedAtMs),
        sql`json_extract(${desiredObjects.specJson}, '$.isDefault') = 1`,
      ),
    )
    .orderBy(asc(desiredObjects.createdAtMs), asc(desiredObjects.id))
    .limit(1);
  return rows[0]?.id ?? null;
}
