/** Planning for tunnels, which have no text field for the marker. */
import type { DesiredState, ObservedTunnel } from "../model";
import { diffFields } from "./diff";
import { isDrift, liveOf, type Planner } from "./planner";

/**
 * A tunnel created at most this long before our create request was sent is taken to be the
 * result of that request (a lost response), allowing for clock skew between us and Cloudflare.
 */
const CREATE_MATCH_SKEW_MS = 60_000;

/**
 * Tunnels have no free-text field, so ownership is the Cloudflare id recorded after the create.
 * A desired tunnel with no recorded id whose create was sent is matched by name to a tunnel
 * created since (the create's response was lost); tombstones with a recorded id are deleted.
 */
export function planTunnels(out: Planner, desired: DesiredState, observed: ObservedTunnel[]) {
  const byId = new Map(observed.map((t) => [t.cloudflareId, t]));
  const claimed = new Set<string>();
  const keyToCloudflareId = new Map<string, string>();
  for (const d of liveOf(desired, "tunnel")) {
    const recorded = d.cloudflareId === null ? undefined : byId.get(d.cloudflareId);
    const requestedAtMs = d.createRequestedAtMs;
    const match =
      recorded ??
      (requestedAtMs === null
        ? undefined
        : observed.find(
            (t) => t.name === d.spec.name && t.createdAtMs >= requestedAtMs - CREATE_MATCH_SKEW_MS,
          ));
    if (match === undefined) {
      out.actions.push({
        op: "create",
        kind: "tunnel",
        key: d.id,
        reason: "missing in Cloudflare",
        diff: [],
        desired: { name: d.spec.name },
        isDrift: isDrift(d),
      });
      continue;
    }
    claimed.add(match.cloudflareId);
    keyToCloudflareId.set(d.id, match.cloudflareId);
    const diff = diffFields({ name: match.name }, { name: d.spec.name });
    if (diff.length > 0) {
      out.actions.push({
        op: "update",
        kind: "tunnel",
        key: d.id,
        cloudflareId: match.cloudflareId,
        reason: "differs from the desired state",
        diff,
        desired: { name: d.spec.name },
        isDrift: isDrift(d),
      });
    }
  }
  for (const d of desired.objects) {
    if (
      d.kind === "tunnel" &&
      d.deletedAtMs !== null &&
      d.cloudflareId !== null &&
      byId.has(d.cloudflareId)
    ) {
      claimed.add(d.cloudflareId);
      out.actions.push({
        op: "delete",
        kind: "tunnel",
        key: d.id,
        cloudflareId: d.cloudflareId,
        reason: "no longer desired",
        diff: [],
        isDrift: false,
      });
    }
  }
  for (const t of observed) {
    if (!claimed.has(t.cloudflareId)) {
      out.unmanaged.push({ kind: "tunnel", cloudflareId: t.cloudflareId, label: t.name });
    }
  }
  return keyToCloudflareId;
}
