/**
 * Pieces every part of the planner shares: the plan being built, the live desired objects of a
 * kind, drift detection, and grouping observed objects by the owner named in their marker.
 */
import type { DesiredObject, DesiredState, Kind } from "../model";
import type { Action, PlanWarning, UnmanagedObject } from "./actions";
import { readMarker } from "./ownership";

/** The plan being built by one planAccount call. */
export interface Planner {
  actions: Action[];
  warnings: PlanWarning[];
  unmanaged: UnmanagedObject[];
}

/** Live (not tombstoned) desired objects of one kind. */
export function liveOf<K extends Kind>(desired: DesiredState, kind: K): DesiredObject<K>[] {
  return desired.objects.filter(
    (o): o is DesiredObject<K> => o.kind === kind && o.deletedAtMs === null,
  );
}

/** True when the object was in sync at its current version: a difference now is drift. */
export function isDrift(object: DesiredObject): boolean {
  return object.syncedVersion === object.version;
}

/** Groups observed objects by the owner id in their marker; unmarked ones go to `unmarked`. */
export function byOwner<T>(items: T[], field: (item: T) => string) {
  const owned = new Map<string, T[]>();
  const unmarked: T[] = [];
  for (const item of items) {
    const { ownerId } = readMarker(field(item));
    if (ownerId === null) {
      unmarked.push(item);
    } else {
      owned.set(ownerId, [...(owned.get(ownerId) ?? []), item]);
    }
  }
  return { owned, unmarked };
}
