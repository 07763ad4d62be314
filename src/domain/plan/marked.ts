/** Planning for kinds whose Cloudflare objects carry the ownership marker in a text field. */
import type { DesiredObject } from "../model";
import type { Action, FieldDiff, RenderedByKind } from "./actions";
import { diffFields } from "./diff";
import { byOwner, isDrift, type Planner } from "./planner";

/**
 * Plans one kind whose objects carry the marker. Desired objects without a counterpart are
 * created (or, when an unmarked object has the id recorded at import, or an orphan of ours has the
 * same identity, that object is updated instead of a duplicate being created); counterparts that differ are updated; marked
 * objects whose owner is gone, and duplicates left by lost create responses, are deleted.
 */
export function planMarked<
  K extends
    | "virtual_network"
    | "tunnel_route"
    | "hostname_route"
    | "device_profile"
    | "network_policy",
  O,
>(
  out: Planner,
  kind: K,
  desired: DesiredObject<K>[],
  observed: O[],
  access: {
    cloudflareId: (o: O) => string;
    markedField: (o: O) => string;
    label: (o: O) => string;
    render: (d: DesiredObject<K>) => RenderedByKind[K];
    toRendered: (o: O) => RenderedByKind[K];
    sameIdentity?: (a: RenderedByKind[K], b: RenderedByKind[K]) => boolean;
    /** Shortens a diff for plans and run records (a long list told as counts). */
    summarise?: (diff: FieldDiff[]) => FieldDiff[];
  },
): Map<string, string> {
  const { owned, unmarked } = byOwner(observed, access.markedField);
  const liveIds = new Set(desired.map((d) => d.id));
  const orphans = [...owned.entries()]
    .filter(([ownerId]) => !liveIds.has(ownerId))
    .flatMap(([ownerId, items]) => items.map((item) => ({ ownerId, item })));
  const adopted = new Set<O>();
  const keyToCloudflareId = new Map<string, string>();
  const push = (action: Action<K>) => out.actions.push(action as Action);

  const unmarkedById = new Map(unmarked.map((item) => [access.cloudflareId(item), item]));
  for (const d of desired) {
    const want = access.render(d);
    const [first, ...extra] = owned.get(d.id) ?? [];
    // An imported object is stored with its Cloudflare id before it carries the marker: it is
    // that object, and the update adds the marker (never a create of a second one).
    const imported =
      first === undefined && d.cloudflareId !== null ? unmarkedById.get(d.cloudflareId) : undefined;
    if (imported !== undefined) {
      adopted.add(imported);
    }
    const orphan =
      first === undefined && imported === undefined
        ? orphans.find(
            ({ item }) =>
              !adopted.has(item) && access.sameIdentity?.(access.toRendered(item), want) === true,
          )
        : undefined;
    const counterpart = first ?? imported ?? orphan?.item;
    if (counterpart === undefined) {
      push({
        op: "create",
        kind,
        key: d.id,
        reason: "missing in Cloudflare",
        diff: [],
        desired: want,
        isDrift: isDrift(d),
      });
      continue;
    }
    if (orphan !== undefined) {
      adopted.add(orphan.item);
    }
    const cloudflareId = access.cloudflareId(counterpart);
    keyToCloudflareId.set(d.id, cloudflareId);
    const fullDiff = diffFields(access.toRendered(counterpart) as object, want as object);
    const diff = access.summarise?.(fullDiff) ?? fullDiff;
    if (diff.length > 0) {
      const reason = imported
        ? "imported: the ownership marker is added"
        : orphan
          ? "taken over from a deleted object with the same identity"
          : "differs from the desired state";
      push({
        op: "update",
        kind,
        key: d.id,
        cloudflareId,
        reason,
        diff,
        desired: want,
        isDrift: orphan || imported ? false : isDrift(d),
      });
    }
    for (const duplicate of extra) {
      push({
        op: "delete",
        kind,
        key: d.id,
        cloudflareId: access.cloudflareId(duplicate),
        reason: "duplicate of an owned object",
        diff: [],
        isDrift: false,
      });
    }
  }
  for (const { ownerId, item } of orphans) {
    if (!adopted.has(item)) {
      push({
        op: "delete",
        kind,
        key: ownerId,
        cloudflareId: access.cloudflareId(item),
        reason: "no longer desired",
        diff: [],
        isDrift: false,
      });
    }
  }
  for (const item of unmarked.filter((u) => !adopted.has(u))) {
    out.unmanaged.push({
      kind,
      cloudflareId: access.cloudflareId(item),
      label: access.label(item),
    });
  }
  return keyToCloudflareId;
}
