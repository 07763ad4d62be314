/**
 * Import of an unmanaged hostname route: its tunnel must be one tunnelplane manages (a route
 * cannot point at a tunnel the desired state does not know). Cloudflare answers `*.x` as `x`, so
 * the route is stored in that form, which plans zero changes; the next run adds the marker.
 */

import type { AccountRecord } from "../../db/accounts.repo";
import { type Db, isUniqueViolation } from "../../db/client";
import { type Actor, insertObject, listAllObjects } from "../../db/desired-objects.repo";
import type { HostnameRouteSpec, ObservedState } from "../../domain/model";
import { readMarker } from "../../domain/plan/ownership";
import { parseHostname } from "../../domain/routes/hostname";
import { toEnvelope } from "../desired/object.schemas";
import { hostnameRoutes } from "../hostname-routes";
import { ProblemError } from "../problem";
import { enforceObjectQuota } from "../quotas";
import type { ImportedBody } from "./import.schemas";

/** Most comment characters a desired route keeps (the marker takes the rest of Cloudflare's 100). */
const MAX_COMMENT_LENGTH = 50;

function notImportable(cloudflareId: string, reason: string): ProblemError {
  return new ProblemError(
    "not-importable",
    `Hostname route ${cloudflareId} cannot be imported: ${reason}.`,
    { errors: [{ pointer: "#/cloudflare_id", detail: reason, code: "not-importable" }] },
  );
}

/**
 * Stores the hostname route `cloudflareId` of `observed` as a desired route bound to it.
 * @throws ProblemError not-found, already-managed, not-importable (unmanaged tunnel, comment over
 * 50 characters), duplicate-route (the same Cloudflare form is desired), limit-exceeded
 */
export async function importHostnameRoute(
  db: Db,
  account: AccountRecord,
  observed: ObservedState,
  cloudflareId: string,
  actor: Actor,
): Promise<ImportedBody> {
  const route = observed.hostnameRoutes.find((r) => r.cloudflareId === cloudflareId);
  if (route === undefined) {
    throw new ProblemError(
      "not-found",
      `No hostname route ${cloudflareId} in account ${account.id}.`,
    );
  }
  const owner = readMarker(route.comment).ownerId;
  if (owner !== null) {
    throw new ProblemError(
      "already-managed",
      `Hostname route ${cloudflareId} is owned by ${owner}.`,
    );
  }
  const tunnels = await listAllObjects(db, account.id, "tunnel");
  const tunnel = tunnels.find(
    (t) => t.deletedAtMs === null && t.cloudflareId === route.tunnelCloudflareId,
  );
  if (tunnel === undefined) {
    const name = observed.tunnels.find((t) => t.cloudflareId === route.tunnelCloudflareId)?.name;
    throw notImportable(
      cloudflareId,
      `its tunnel ${name ?? route.tunnelCloudflareId} is not managed by tunnelplane`,
    );
  }
  if (route.comment.length > MAX_COMMENT_LENGTH) {
    throw notImportable(
      cloudflareId,
      `its comment is longer than ${MAX_COMMENT_LENGTH} characters`,
    );
  }
  const parsed = parseHostname(route.hostname);
  if (!parsed.ok) {
    throw notImportable(cloudflareId, `${route.hostname} is ${parsed.error}`);
  }
  await enforceObjectQuota(db, account, "hostname_route");
  const spec: HostnameRouteSpec = {
    hostname: parsed.value.hostname,
    tunnelId: tunnel.id,
    comment: route.comment,
  };
  const id = crypto.randomUUID();
  const input = {
    kind: "hostname_route" as const,
    id,
    spec,
    naturalKey: hostnameRoutes.naturalKey(spec),
    cloudflareId,
  };
  try {
    const stored = await insertObject(db, account.id, input, actor, Date.now());
    return {
      kind: "hostname_route",
      cloudflare_id: cloudflareId,
      hostname_route: { ...toEnvelope(stored), ...hostnameRoutes.toWire(spec) },
      before: {
        hostname: route.hostname,
        tunnel_id: route.tunnelCloudflareId,
        comment: route.comment,
      },
    };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ProblemError("duplicate-route", hostnameRoutes.conflict.detail(spec));
    }
    throw error;
  }
}
