/**
 * What a run learned about each desired object: its Cloudflare id, whether it is in sync, the
 * last error. Every write is guarded by the version the run planned from, so a user's edit made
 * during the run is never marked synced.
 */
import { and, eq, isNotNull } from "drizzle-orm";
import type { Kind, SyncState } from "../domain/model";
import type { Db } from "./client";
import { desiredObjects } from "./schema";

/** The outcome of one run for one desired object. */
export interface SyncUpdate {
  kind: Kind;
  id: string;
  /** The version the run planned from. */
  version: number;
  syncState: SyncState;
  cloudflareId?: string | null;
  lastError?: string | null;
  /** Set when the object is now equal in Cloudflare at `version`. */
  isSynced: boolean;
  /** Set when a create is about to be sent (epoch ms). */
  createRequestedAtMs?: number;
  observed?: Record<string, unknown> | null;
  /** True when the object is a tombstone whose Cloudflare object is gone: remove the row. */
  purge?: boolean;
}

const whereAt = (accountId: string, u: SyncUpdate) =>
  and(
    eq(desiredObjects.accountId, accountId),
    eq(desiredObjects.kind, u.kind),
    eq(desiredObjects.id, u.id),
    eq(desiredObjects.version, u.version),
  );

/** The statements that write the updates, for one batch. `nowMs` stamps `synced_at_ms`. */
export function syncUpdateStatements(
  db: Db,
  accountId: string,
  updates: SyncUpdate[],
  nowMs: number,
) {
  return updates.map((u) =>
    u.purge
      ? db
          .delete(desiredObjects)
          .where(and(whereAt(accountId, u), isNotNull(desiredObjects.deletedAtMs)))
      : db
          .update(desiredObjects)
          .set({
            syncState: u.syncState,
            ...(u.cloudflareId === undefined ? {} : { cloudflareId: u.cloudflareId }),
            ...(u.lastError === undefined ? {} : { lastError: u.lastError }),
            ...(u.isSynced ? { syncedVersion: u.version, syncedAtMs: nowMs } : {}),
            ...(u.createRequestedAtMs === undefined
              ? {}
              : { createRequestedAtMs: u.createRequestedAtMs }),
            ...(u.observed === undefined
              ? {}
              : { observedJson: u.observed === null ? null : JSON.stringify(u.observed) }),
          })
          .where(whereAt(accountId, u)),
  );
}

/** What a desired object's row says about its sync now, to compare a run's update with. */
interface CurrentStatus {
  syncState: SyncState;
  cloudflareId: string | null;
  lastError: string | null;
  syncedVersion: number | null;
  observedJson: string | null;
}

function isUnchanged(u: SyncUpdate, now: CurrentStatus | undefined): boolean {
  return (
    now !== undefined &&
    !u.purge &&
    u.createRequestedAtMs === undefined &&
    u.syncState === now.syncState &&
    (u.cloudflareId === undefined || u.cloudflareId === now.cloudflareId) &&
    (u.lastError === undefined || u.lastError === now.lastError) &&
    (!u.isSynced || now.syncedVersion === u.version) &&
    (u.observed === undefined ||
      (u.observed === null ? null : JSON.stringify(u.observed)) === now.observedJson)
  );
}

/**
 * The updates that change something: a run that found everything as it was writes no status
 * row (`synced_at_ms` keeps the time the object was first confirmed at its version).
 */
export async function changedSyncUpdates(
  db: Db,
  accountId: string,
  updates: SyncUpdate[],
): Promise<SyncUpdate[]> {
  if (updates.length === 0) {
    return [];
  }
  const rows = await db
    .select({
      kind: desiredObjects.kind,
      id: desiredObjects.id,
      version: desiredObjects.version,
      syncState: desiredObjects.syncState,
      cloudflareId: desiredObjects.cloudflareId,
      lastError: desiredObjects.lastError,
      syncedVersion: desiredObjects.syncedVersion,
      observedJson: desiredObjects.observedJson,
    })
    .from(desiredObjects)
    .where(eq(desiredObjects.accountId, accountId));
  const current = new Map(rows.map((r) => [`${r.kind}/${r.id}/${r.version}`, r]));
  return updates.filter((u) => !isUnchanged(u, current.get(`${u.kind}/${u.id}/${u.version}`)));
}

/** Stamps that a create of the object is about to be sent (epoch ms), whatever its version. */
export async function recordCreateRequested(
  db: Db,
  accountId: string,
  kind: Kind,
  id: string,
  atMs: number,
): Promise<void> {
  await db
    .update(desiredObjects)
    .set({ createRequestedAtMs: atMs })
    .where(
      and(
        eq(desiredObjects.accountId, accountId),
        eq(desiredObjects.kind, kind),
        eq(desiredObjects.id, id),
      ),
    );
}
